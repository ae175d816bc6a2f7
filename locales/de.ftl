# Die Meldungen von meetnow in Discord, Deutsch. Dieselben IDs und Argumente wie en.ftl (dessen Kommentare sagen,
# was jedes Argument ist). Befehle, Variablennamen, Portalpfade und PowerShell bleiben, wie sie sind: Sie müssen
# dem entsprechen, was Administratoren eingeben und sehen. Teams-Begriffe und Rollennamen wie in der deutschen
# Teams-Oberfläche; Anrede mit „Sie“, wie in Teams und Microsofts deutschem Styleguide (siehe locales/README.md).

## Registrierung von /meetnow

command-description = Die Microsoft-Teams-Bridge dieses Kanals starten oder wieder öffnen
option-subject-description = Betreff der Besprechung (Standard: Bridge von #Kanal)
option-new-description = Eine eigene Besprechung statt der ständigen Bridge des Kanals starten
option-ring-description = Jemanden in die Bridge holen: Namen oder geschäftliche E-Mail eintippen

## Die Ankündigung

announce-new-standing = Neue Bridge: die ständige Teams-Besprechung dieses Kanals.
announce-new-separate = Neue eigene Teams-Besprechung.
announce-standing = Die ständige Bridge dieses Kanals.
announce-standing-created = Die ständige Bridge dieses Kanals, erstellt { $since }.
announce-click-title = Klicken Sie auf den Titel, um an der Besprechung teilzunehmen.
no-dial-in = Keine Einwahl per Telefon: Der Organisator hat keine Lizenz für Teams-Audiokonferenzen. Nehmen Sie über den Besprechungslink teil.
field-dial-in = Telefonische Einwahl
field-conference-id = Konferenz-ID
field-join-by-id = Mit ID teilnehmen
join-by-id = Besprechungs-ID { $id }
join-by-id-passcode = Besprechungs-ID { $id } · Kenncode { $passcode }
number-toll = Gebührenpflichtig
number-toll-free = Gebührenfrei
dial-line = { $kind }: { $number }
dial-line-one-tap = { $kind }: { $number } · Direktwahl { $tap }
dial-more = { $count ->
    [one] … und 1 weitere auf der Seite „Lokale Nummern“
   *[other] … und { $count } weitere auf der Seite „Lokale Nummern“
}
button-join = An der Besprechung teilnehmen
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
live-started = Begonnen um { $time } ({ $ago }).
live-nobody = Gerade ist niemand im Anruf.
live-on-call = **Im Anruf ({ $count }):** { $names }
live-lobby = **Im Wartebereich ({ $count }):** { $names }
list-separator = {", "}
live-names-more = { $count ->
    [one] { $names } und 1 weitere Person
   *[other] { $names } und { $count } weitere
}
no-display-name = (kein Anzeigename)
ended-title = Anruf beendet
ended-at = Beendet um { $time } ({ $ago }).
ended-at-after = Beendet um { $time } ({ $ago }), Dauer: { $duration }.
ended-joined = { $count ->
    [0] Niemand hat teilgenommen.
    [one] 1 Person hat teilgenommen.
   *[other] { $count } Personen haben teilgenommen.
}
ended-open = Die Bridge bleibt offen: „An der Besprechung teilnehmen“ startet den nächsten Anruf.
duration-under-a-minute = unter einer Minute
duration-minutes = { $minutes } Min.
duration-hours = { $hours } Std.
duration-hours-minutes = { $hours } Std. { $minutes } Min.

## Anwesenheit (nur für die Person sichtbar, die geklickt hat)

attendance-title = Wer in der Bridge war
attendance-none = In dieser Bridge ist noch kein Anruf beendet. Teams veröffentlicht die Anwesenheit einige Minuten nach Ende eines Anrufs.
attendance-call = **Anruf { $number }** · { $start } – { $end }
attendance-call-joined = **Anruf { $number }** · { $start } – { $end } · Teilnehmer: { $count }
attendance-more = { $count ->
    [one] … und 1 weitere Person
   *[other] … und { $count } weitere
}
attendance-no-bridge = Diese Nachricht kündigt keine Bridge an, daher gibt es keine Anwesenheit anzuzeigen.
role-organizer = Organisator
role-presenter = Referent
role-attendee = Teilnehmer
role-producer = Produzent
role-coorganizer = Mitorganisator
seconds = { $seconds } Sek.
hours-minutes-padded = { $hours } Std. { $minutes } Min.

## Private Antworten: wer es nutzen darf, die Optionen, Neustarts

refused-no-server = meetnow funktioniert in Serverkanälen, nicht in Direktnachrichten.
refused-other-server = meetnow ist für diesen Server nicht eingerichtet und kann hier daher keine Bridge starten. Wenden Sie sich an die Administratoren, die meetnow betreiben: Sie müssen diesen Server zu MEETNOW_ALLOWED_GUILD_IDS hinzufügen.
refused-no-role = Um meetnow hier zu nutzen, benötigen Sie eine der Rollen, die dieser Server zulässt. Wenden Sie sich an einen Administrator des Servers.
subject-too-long = Der Betreff ist zu lang (Zeichen: { $length }, höchstens: { $max }). Kürzen Sie ihn und führen Sie /meetnow erneut aus.
restarting = meetnow startet gerade neu. Führen Sie /meetnow in ein paar Sekunden erneut aus.

## Jemanden in die Bridge anrufen (/meetnow ring:)

ring-ringing = 📞 { $name } wird angerufen …
ring-ringing-detail = Teams klingelt gerade bei der Person. Diese Zeile ändert sich, sobald sie reagiert.
ring-joined = ✅ { $name } ist der Bridge beigetreten
ring-declined = { $name } hat den Anruf abgelehnt
ring-no-answer = Keine Antwort von { $name } nach { $waited }
ring-unreachable = { $name } ist in Teams nicht erreichbar
ring-unreachable-detail = Teams hat kein Konto, bei dem es für diese Person klingeln kann: Vielleicht fehlt ihr eine Teams-Lizenz, oder sie gehört nicht zu Ihrer Organisation. Erreichen Sie sie auf anderem Weg.
ring-failed = { $name } konnte nicht angerufen werden
ring-error-forbidden = Teams hat den Anruf des Bots abgelehnt (403). Die App braucht die Anwendungsberechtigungen Calls.JoinGroupCall.All und Calls.InitiateGroupCall.All mit Administratorzustimmung, und ihr Azure Bot braucht den Microsoft Teams-Kanal mit aktivierten Anrufen und dem Anruf-Webhook, den `meetnow check` ausgibt.
ring-error-not-joined = Der Bot konnte dem Anruf der Bridge nicht rechtzeitig beitreten, daher wurde niemand angerufen. Versuchen Sie es erneut; wenn es wieder passiert, prüfen Sie den Anruf-Webhook des Azure Bots (`meetnow check` gibt ihn aus).
ring-error-refused = Teams hat den Anruf nicht aufgebaut (Code { $code }): { $message }
ring-off = Anrufen ist für diesen Bot nicht eingeschaltet, daher wurde niemand angerufen. /meetnow ohne `ring:` gibt Ihnen trotzdem die Bridge. Wer meetnow betreibt, schaltet es mit MEETNOW_RING=true ein (README: Ring them in).
ring-not-found = Im Verzeichnis Ihrer Organisation passt niemand zu { $query }, daher wurde niemand angerufen. Wählen Sie einen Namen aus den Vorschlägen, oder geben Sie die geschäftliche E-Mail-Adresse ein.
ring-repeat = { $name } wurde { $ago } auf dieser Bridge angerufen und wird deshalb nicht noch einmal angerufen. Warten Sie eine Minute, bevor Sie es erneut versuchen.
ring-busy = meetnow ruft gerade so viele Personen gleichzeitig an, wie es kann, daher wurde niemand angerufen. Versuchen Sie es in einer Minute erneut.
ring-directory-forbidden = Das Verzeichnis hat die Suche nach der Person abgelehnt (403): Die App braucht die Anwendungsberechtigung User.ReadBasic.All mit Administratorzustimmung (Microsoft Entra Admin Center → App-Registrierungen → die App → API-Berechtigungen). `meetnow check` zeigt, welche sie hat.

## Absagen von Microsoft und wie sie sich beheben lassen

error-access-policy = Teams hat das Erstellen der Besprechung abgelehnt: Keine Anwendungszugriffsrichtlinie (application access policy) erlaubt dieser App, Besprechungen für den Organisator zu erstellen. Ein Teams-Administrator muss dies einmal in PowerShell ausführen (zuerst `Import-Module MicrosoftTeams; Connect-MicrosoftTeams`):
    `New-CsApplicationAccessPolicy -Identity MeetNow -AppIds "{ $client }" -Description "Discord /meetnow"`
    `Grant-CsApplicationAccessPolicy -PolicyName MeetNow -Identity "{ $organizer }"`
    Es kann bis zu 30 Minuten dauern, bis die Richtlinie wirkt.
error-forbidden = Teams hat das Erstellen der Besprechung abgelehnt (403). Meist fehlt der App die Administratorzustimmung für die Anwendungsberechtigung OnlineMeetings.ReadWrite.All (Entra admin center → App registrations → die App → API permissions → hinzufügen → Grant admin consent), oder der Organisator ist Gast oder hat keine Teams-Lizenz. `meetnow check` zeigt, was zutrifft.
error-organizer-not-found = Graph kennt in diesem Mandanten keinen Benutzer { $organizer }. MEETNOW_ORGANIZER_ID muss die Entra-Objekt-ID eines lizenzierten Teams-Benutzers im Mandanten der App sein (Entra admin center → Users → Object ID).
error-unauthorized = Graph hat das Token der App nicht angenommen, auch kein neues. Prüfen Sie, ob AZURE_TENANT_ID der Mandant ist, der zugestimmt hat, und ob GRAPH_ENDPOINT in derselben Cloud liegt wie AZURE_AUTHORITY_HOST.
error-throttled = { $seconds ->
    [one] Teams drosselt gerade Besprechungsanfragen. Versuchen Sie es in 1 Sekunde erneut.
   *[other] Teams drosselt gerade Besprechungsanfragen. Versuchen Sie es in { $seconds } Sekunden erneut.
}
error-unavailable = Microsoft Teams (Graph) antwortet gerade nicht, daher wurde keine Besprechung erstellt. Versuchen Sie es in einer Minute erneut; `meetnow create` funktioniert auch im Terminal.
error-refused = Graph hat die Anfrage abgelehnt (HTTP { $status }, { $code }): { $message }. Führen Sie `meetnow check` aus, um die Einrichtung zu prüfen.
error-attendance-permission = Um die Anwesenheit zu lesen, benötigt die App die Anwendungsberechtigung { $role }. Fügen Sie in Entra admin center → App registrations → die App → API permissions Microsoft Graph → Application permissions → { $role } hinzu und klicken Sie auf Grant admin consent (die bestehende Anwendungszugriffsrichtlinie deckt das ab). `meetnow check` zeigt, ob das Token sie enthält.
error-meeting-not-found = Diese Bridge gehört nicht mehr zu den Besprechungen des Organisators (gelöscht oder von jemand anderem erstellt), daher lässt sich ihre Anwesenheit nicht lesen.
error-unexpected-response = Microsoft Graph hat eine Antwort geschickt, die meetnow nicht lesen kann (HTTP { $status }), daher wurde kein Link gepostet. Versuchen Sie es gleich noch einmal.
error-untrusted-certificate = Das TLS-Zertifikat von { $host } ist nicht von einer Zertifizierungsstelle signiert, der dieser Host vertraut. Hinter einem Unternehmensproxy, der TLS prüft: Legen Sie dessen CA-Zertifikat (PEM) in eine Datei und geben Sie diese in SSL_CERT_FILE an, oder fügen Sie es dem Zertifikatspeicher des Systems hinzu (z. B. /usr/local/share/ca-certificates und `update-ca-certificates`).
sign-in-secret-invalid = Der Microsoft-Anmeldedienst (Entra ID) hat den geheimen Clientschlüssel abgelehnt (AADSTS7000215). AZURE_CLIENT_SECRET muss den Wert (Value) des Geheimnisses enthalten, nicht seine Secret ID: Erstellen Sie unter App registrations → Certificates & secrets einen neuen geheimen Clientschlüssel und kopieren Sie seinen Value.
sign-in-secret-expired = Der geheime Clientschlüssel der App ist abgelaufen (AADSTS7000222). Erstellen Sie unter App registrations → Certificates & secrets einen neuen und tragen Sie seinen Value in AZURE_CLIENT_SECRET ein.
sign-in-no-app = Der Microsoft-Anmeldedienst (Entra ID) hat keine App { $client } im Mandanten { $tenant } gefunden (AADSTS700016). Prüfen Sie AZURE_CLIENT_ID (die Application (client) ID) und ob AZURE_TENANT_ID der Mandant ist, zu dem die App gehört.
sign-in-no-tenant = Der Microsoft-Anmeldedienst (Entra ID) hat keinen Mandanten { $tenant } gefunden (AADSTS90002). Prüfen Sie AZURE_TENANT_ID und bei Government Clouds AZURE_AUTHORITY_HOST (https://login.microsoftonline.us).
sign-in-invalid-tenant = AZURE_TENANT_ID { $tenant } ist kein gültiger Mandant (AADSTS900023): Verwenden Sie die GUID der Directory (tenant) ID oder die Domäne des Mandanten.
sign-in-scope = Der Microsoft-Anmeldedienst (Entra ID) hat den Bereich (scope) abgelehnt (AADSTS70011): GRAPH_ENDPOINT muss die Graph-Adresse Ihrer Cloud sein, z. B. https://graph.microsoft.com.
sign-in-certificate-unknown = Der Microsoft-Anmeldedienst (Entra ID) konnte die Clientassertion nicht mit einem Zertifikat der App { $client } prüfen (AADSTS700027): Das Zertifikat aus AZURE_CLIENT_CERTIFICATE_PATH ist nicht in der App-Registrierung hochgeladen oder wurde entfernt. Laden Sie es hoch (nur das Zertifikat, nie den Schlüssel): App registrations → die App → Certificates & secrets → Certificates → Upload certificate; sein Fingerabdruck muss dem entsprechen, den `meetnow check` ausgibt.
sign-in-federated-expired = Der Microsoft-Anmeldedienst (Entra ID) hat das Verbundtoken als abgelaufen abgelehnt (AADSTS700024). Die Datei in AZURE_FEDERATED_TOKEN_FILE wird nicht mehr erneuert: Prüfen Sie in Kubernetes, ob der Pod das projizierte Dienstkontotoken noch einbindet (der Workload-Identity-Webhook fügt es hinzu), und starten Sie ihn neu.
sign-in-clock = Der Microsoft-Anmeldedienst (Entra ID) hat die Clientassertion als außerhalb ihrer Gültigkeit abgelehnt (AADSTS700024): Die Uhr dieses Hosts geht falsch. Synchronisieren Sie sie (NTP, z. B. `timedatectl set-ntp true`).
sign-in-federated-mismatch = Keine Verbundanmeldeinformation der App { $client } passt zum Token in AZURE_FEDERATED_TOKEN_FILE (AADSTS{ $code }). Fügen Sie unter App registrations → die App → Certificates & secrets → Federated credentials eine hinzu, deren Aussteller der des Tokens ist (die OIDC-Aussteller-URL Ihres Clusters: `az aks show -n CLUSTER -g GROUP --query oidcIssuerProfile.issuerUrl -o tsv`), deren Subjekt system:serviceaccount:NAMESPACE:SERVICE-ACCOUNT und deren Zielgruppe api://AzureADTokenExchange ist.
sign-in-assertion-other-app = Die Clientassertion nennt eine andere App als AZURE_CLIENT_ID { $client } (AADSTS700021): Verwenden Sie die Client-ID der App, zu der das Zertifikat oder die Verbundanmeldeinformation gehört.
sign-in-assertion-unreadable = Der Microsoft-Anmeldedienst (Entra ID) konnte die Clientassertion nicht als Token lesen (AADSTS50027): { $variable } muss ein JWT enthalten (bei einer Verbundtokendatei das Token, das Ihre Plattform dort ablegt).
sign-in-refused-code = Der Microsoft-Anmeldedienst (Entra ID) hat die App abgelehnt (AADSTS{ $code }, { $error }). Prüfen Sie AZURE_TENANT_ID, AZURE_CLIENT_ID und { $variable }; `meetnow check` testet sie.
sign-in-refused = Der Microsoft-Anmeldedienst (Entra ID) hat die App abgelehnt ({ $error }). Prüfen Sie AZURE_TENANT_ID, AZURE_CLIENT_ID und { $variable }; `meetnow check` testet sie.
sign-in-credential = Die Anmeldung bei Microsoft ist gescheitert, bevor sie begann: { $detail }.
sign-in-identity-refused = Der Endpunkt der verwalteten Identität hat kein Token ausgegeben (HTTP { $status }: { $explanation }). Prüfen Sie, ob dieser Host eine verwaltete Identität hat (systemseitig oder benutzerseitig zugewiesen mit AZURE_CLIENT_ID als Client-ID) und ob die Identität die App-Rolle OnlineMeetings.ReadWrite.All hat.
sign-in-unavailable = Der Microsoft-Anmeldedienst (Entra ID) antwortet gerade nicht, daher wurde keine Besprechung erstellt. Versuchen Sie es in einer Minute erneut.
sign-in-malformed = Der Microsoft-Anmeldedienst (Entra ID) hat ein Token geschickt, das meetnow nicht lesen kann. Prüfen Sie AZURE_AUTHORITY_HOST; es sollte https://login.microsoftonline.com oder das Gegenstück Ihrer Cloud sein.
