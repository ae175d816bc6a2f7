# Die Meldungen von meetnow in Discord, Deutsch. Dieselben IDs und Argumente wie en.ftl. Befehle, Variablennamen,
# Portalpfade und PowerShell bleiben, wie sie sind: Sie müssen dem entsprechen, was die Administration eingibt und
# sieht. Teams-Begriffe wie in der deutschen Teams-Oberfläche.

## Registrierung von /meetnow

command-description = Die Microsoft-Teams-Bridge dieses Kanals starten oder wieder öffnen
option-subject-description = Betreff der Besprechung (Standard: Bridge von #Kanal)
option-new-description = Eine eigene Besprechung statt der ständigen Bridge des Kanals starten

## Die Ankündigung

announce-new-standing = Neue Bridge: die ständige Teams-Besprechung dieses Kanals.
announce-new-separate = Neue eigene Teams-Besprechung.
announce-standing = Die ständige Bridge dieses Kanals.
announce-standing-since = Die ständige Bridge dieses Kanals, erstellt { $since }.
announce-click-title = Zum Teilnehmen auf den Titel klicken.
no-dial-in = Keine Einwahl per Telefon: Die Organisatorin oder der Organisator hat keine Lizenz für Teams-Audiokonferenzen. Über den Link teilnehmen.
field-dial-in = Telefonische Einwahl
field-conference-id = Konferenz-ID
field-join-by-id = Mit ID teilnehmen
join-by-id = Besprechungs-ID { $id }
join-by-id-passcode = Besprechungs-ID { $id } · Kennung { $passcode }
number-toll = Gebührenpflichtig
number-toll-free = Gebührenfrei
dial-line = { $kind }: { $number }
dial-line-one-tap = { $kind }: { $number } · Direktwahl { $tap }
dial-more = … und { $count } weitere auf der Seite „Lokale Nummern“
button-join = An Besprechung teilnehmen
button-local-numbers = Lokale Nummern
button-attendance = Anwesenheit
default-subject = Bridge von #{ $channel }
default-subject-unnamed = Incident-Bridge
live-pointer = Den Live-Status dieser Bridge zeigt ihre angeheftete Ankündigung.

## Live-Status

live-title = { $count ->
    [one] Anruf läuft: 1 Person
   *[other] Anruf läuft: { $count } Personen
}
live-title-empty = Anruf läuft
live-started = Begonnen um { $time }, { $ago }.
live-nobody = Gerade ist niemand im Anruf.
live-on-call = **Im Anruf ({ $count }):** { $names }
live-lobby = **Warten im Wartebereich ({ $count }):** { $names }
live-more = und { $count } weitere
no-display-name = (kein Anzeigename)
ended-title = Anruf beendet
ended-at = Beendet um { $time }, { $ago }.
ended-at-after = Beendet um { $time }, { $ago }; Dauer: { $duration }
ended-joined = { $count ->
    [0] Niemand hat teilgenommen.
    [one] 1 Person hat teilgenommen.
   *[other] { $count } Personen haben teilgenommen.
}
ended-open = Die Bridge bleibt offen: „An Besprechung teilnehmen“ startet den nächsten Anruf.
duration-under-a-minute = unter einer Minute
duration-minutes = { $minutes } Min.
duration-hours = { $hours } Std.
duration-hours-minutes = { $hours } Std. { $minutes } Min.

## Anwesenheit (nur für die Person sichtbar, die geklickt hat)

attendance-title = Wer in der Bridge war
attendance-none = In dieser Bridge ist noch kein Anruf beendet. Teams veröffentlicht die Anwesenheit einige Minuten nach Ende eines Anrufs.
attendance-call = **Anruf { $number }** · { $start } – { $end }
attendance-call-joined = **Anruf { $number }** · { $start } – { $end } · { $count } Teilnehmende
attendance-more = … und { $count } weitere
attendance-no-bridge = Diese Nachricht kündigt keine Bridge an, daher gibt es keine Anwesenheit zu zeigen.
role-organizer = Organisator
role-presenter = Referent
role-attendee = Teilnehmer
role-producer = Produzent
role-coorganizer = Mitorganisator
seconds = { $seconds } Sek.
hours-minutes-padded = { $hours } Std. { $minutes } Min.

## Private Antworten: wer es nutzen darf, die Optionen, Neustarts

refused-no-server = meetnow funktioniert in Serverkanälen, nicht in Direktnachrichten.
refused-other-server = meetnow ist für diesen Server nicht eingerichtet und kann hier daher keine Bridge starten. Bitte die Administration, die es betreibt, diesen Server zu MEETNOW_ALLOWED_GUILD_IDS hinzuzufügen.
refused-no-role = Um meetnow hier zu nutzen, brauchst du eine der Rollen, die dieser Server zulässt. Frag eine Serveradministration.
subject-too-long = Der Betreff ist { $length } Zeichen lang; höchstens { $max } sind erlaubt.
restarting = meetnow startet gerade neu. Führe /meetnow in ein paar Sekunden noch einmal aus.

## Absagen von Microsoft und wie sie sich beheben lassen

error-access-policy = Teams hat das Erstellen der Besprechung abgelehnt: Keine Anwendungszugriffsrichtlinie (application access policy) erlaubt dieser App, Besprechungen für die Organisatorin oder den Organisator zu erstellen. Eine Teams-Administration muss dies einmal in PowerShell ausführen (zuerst `Import-Module MicrosoftTeams; Connect-MicrosoftTeams`):
    `New-CsApplicationAccessPolicy -Identity MeetNow -AppIds "{ $client }" -Description "Discord /meetnow"`
    `Grant-CsApplicationAccessPolicy -PolicyName MeetNow -Identity "{ $organizer }"`
    Es kann bis zu 30 Minuten dauern, bis die Richtlinie wirkt.
error-forbidden = Teams hat das Erstellen der Besprechung abgelehnt (403). Meist fehlt der App die Administratorzustimmung für die Anwendungsberechtigung OnlineMeetings.ReadWrite.All (Entra admin center → App registrations → die App → API permissions → hinzufügen → Grant admin consent), oder die organisierende Person ist Gast oder hat keine Teams-Lizenz. `meetnow check` zeigt, was zutrifft.
error-organizer-not-found = Graph kennt in diesem Mandanten keinen Benutzer { $organizer }. MEETNOW_ORGANIZER_ID muss die Entra-Objekt-ID eines lizenzierten Teams-Benutzers im Mandanten der App sein (Entra admin center → Users → Object ID).
error-unauthorized = Graph hat das Token der App nicht angenommen, auch kein neues. Prüfe, ob AZURE_TENANT_ID der Mandant ist, der zugestimmt hat, und ob GRAPH_ENDPOINT in derselben Cloud liegt wie AZURE_AUTHORITY_HOST.
error-throttled = Teams drosselt gerade Besprechungsanfragen. Versuch es in { $seconds } Sekunden noch einmal.
error-unavailable = Microsoft Teams (Graph) antwortet gerade nicht, daher wurde keine Besprechung erstellt. Versuch es in einer Minute noch einmal; `meetnow create` funktioniert auch im Terminal.
error-refused = Graph hat die Anfrage abgelehnt (HTTP { $status }, { $code }): { $message }. Führe `meetnow check` aus, um die Einrichtung zu prüfen.
error-attendance-permission = Um die Anwesenheit zu lesen, braucht es die Anwendungsberechtigung { $role }. Füge in Entra admin center → App registrations → die App → API permissions Microsoft Graph → Application permissions → { $role } hinzu und klicke auf Grant admin consent (die bestehende Anwendungszugriffsrichtlinie deckt das ab). `meetnow check` zeigt, ob das Token sie enthält.
error-meeting-not-found = Diese Bridge gehört nicht mehr zu den Besprechungen der organisierenden Person (gelöscht oder von jemand anderem erstellt), daher lässt sich ihre Anwesenheit nicht lesen.
error-unexpected-response = Microsoft Graph hat eine Antwort geschickt, die meetnow nicht lesen kann (HTTP { $status }), daher wurde kein Link gepostet. Versuch es gleich noch einmal.
error-untrusted-certificate = Das TLS-Zertifikat von { $host } ist nicht von einer Zertifizierungsstelle signiert, der dieser Host vertraut. Hinter einem Unternehmensproxy, der TLS prüft, lege dessen CA-Zertifikat (PEM) in eine Datei und lass SSL_CERT_FILE darauf zeigen, oder füge es dem Zertifikatspeicher des Systems hinzu (z. B. /usr/local/share/ca-certificates und `update-ca-certificates`).
sign-in-secret-invalid = Die Microsoft-Anmeldung hat den geheimen Clientschlüssel abgelehnt (AADSTS7000215). AZURE_CLIENT_SECRET muss der Wert (Value) des Geheimnisses sein, nicht seine Secret ID: Erstelle unter App registrations → Certificates & secrets einen neuen geheimen Clientschlüssel und kopiere seinen Value.
sign-in-secret-expired = Der geheime Clientschlüssel der App ist abgelaufen (AADSTS7000222). Erstelle unter App registrations → Certificates & secrets einen neuen und trage seinen Value in AZURE_CLIENT_SECRET ein.
sign-in-no-app = Die Microsoft-Anmeldung hat keine App { $client } im Mandanten { $tenant } gefunden (AADSTS700016). Prüfe AZURE_CLIENT_ID (die Application (client) ID) und ob AZURE_TENANT_ID der Mandant ist, zu dem die App gehört.
sign-in-no-tenant = Die Microsoft-Anmeldung hat keinen Mandanten { $tenant } gefunden (AADSTS90002). Prüfe AZURE_TENANT_ID und bei Government Clouds AZURE_AUTHORITY_HOST (https://login.microsoftonline.us).
sign-in-invalid-tenant = AZURE_TENANT_ID { $tenant } ist kein gültiger Mandant (AADSTS900023): Verwende die GUID der Directory (tenant) ID oder die Domäne des Mandanten.
sign-in-scope = Die Microsoft-Anmeldung hat den Bereich (scope) abgelehnt (AADSTS70011): GRAPH_ENDPOINT muss die Graph-Adresse deiner Cloud sein, z. B. https://graph.microsoft.com.
sign-in-certificate-unknown = Die Microsoft-Anmeldung konnte die Clientassertion nicht mit einem Zertifikat der App { $client } prüfen (AADSTS700027): Das Zertifikat aus AZURE_CLIENT_CERTIFICATE_PATH ist nicht in der App-Registrierung hochgeladen oder wurde entfernt. Lade es hoch (nur das Zertifikat, nie den Schlüssel): App registrations → die App → Certificates & secrets → Certificates → Upload certificate; sein Fingerabdruck muss dem entsprechen, den `meetnow check` ausgibt.
sign-in-federated-expired = Die Microsoft-Anmeldung hat das Verbundtoken als abgelaufen abgelehnt (AADSTS700024). Die Datei in AZURE_FEDERATED_TOKEN_FILE wird nicht mehr erneuert: Prüfe in Kubernetes, ob der Pod das projizierte Dienstkontotoken noch einbindet (der Workload-Identity-Webhook fügt es hinzu), und starte ihn neu.
sign-in-clock = Die Microsoft-Anmeldung hat die Clientassertion als außerhalb ihrer Gültigkeit abgelehnt (AADSTS700024): Die Uhr dieses Hosts geht falsch. Synchronisiere sie (NTP, z. B. `timedatectl set-ntp true`).
sign-in-federated-mismatch = Keine Verbundanmeldeinformation der App { $client } passt zum Token in AZURE_FEDERATED_TOKEN_FILE (AADSTS{ $code }). Füge unter App registrations → die App → Certificates & secrets → Federated credentials eine hinzu, deren Aussteller der des Tokens ist (die OIDC-Aussteller-URL deines Clusters: `az aks show -n CLUSTER -g GROUP --query oidcIssuerProfile.issuerUrl -o tsv`), deren Subjekt system:serviceaccount:NAMESPACE:SERVICE-ACCOUNT und deren Zielgruppe api://AzureADTokenExchange ist.
sign-in-assertion-other-app = Die Clientassertion nennt eine andere App als AZURE_CLIENT_ID { $client } (AADSTS700021): Verwende die Client-ID der App, zu der das Zertifikat oder die Verbundanmeldeinformation gehört.
sign-in-assertion-unreadable = Die Microsoft-Anmeldung konnte die Clientassertion nicht als Token lesen (AADSTS50027): { $variable } muss ein JWT enthalten (bei einer Verbundtokendatei das Token, das deine Plattform dort ablegt).
sign-in-refused-code = Die Microsoft-Anmeldung hat die App abgelehnt (AADSTS{ $code }, { $error }). Prüfe AZURE_TENANT_ID, AZURE_CLIENT_ID und { $variable }; `meetnow check` testet sie.
sign-in-refused = Die Microsoft-Anmeldung hat die App abgelehnt ({ $error }). Prüfe AZURE_TENANT_ID, AZURE_CLIENT_ID und { $variable }; `meetnow check` testet sie.
sign-in-credential = Die Anmeldung bei Microsoft ist gescheitert, bevor sie begann: { $detail }.
sign-in-identity-refused = Der Endpunkt der verwalteten Identität hat kein Token ausgegeben (HTTP { $status }: { $explanation }). Prüfe, ob dieser Host eine verwaltete Identität hat (systemseitig oder benutzerseitig zugewiesen mit AZURE_CLIENT_ID als Client-ID) und ob die Identität die App-Rolle OnlineMeetings.ReadWrite.All hat.
sign-in-unavailable = Die Microsoft-Anmeldung antwortet gerade nicht, daher wurde keine Besprechung erstellt. Versuch es in einer Minute noch einmal.
sign-in-malformed = Die Microsoft-Anmeldung hat ein Token geschickt, das meetnow nicht lesen kann. Prüfe AZURE_AUTHORITY_HOST; es sollte https://login.microsoftonline.com oder das Gegenstück deiner Cloud sein.
