# Les messages de meetnow dans Discord, en français. Mêmes identifiants et arguments que en.ftl (ses commentaires
# disent ce qu'est chaque argument). Les commandes, les noms de variables, les chemins des portails et PowerShell
# restent tels quels : ils doivent correspondre à ce que l'administrateur tape et voit. Termes de Teams comme dans
# l'interface française de Teams ; vouvoiement ; espace insécable avant : ; ! ? et entre guillemets « » (voir
# locales/README.md).

## Enregistrement de /meetnow

command-description = Démarrer ou rouvrir le pont Microsoft Teams de ce salon
option-subject-description = Objet de la réunion (par défaut : pont de #salon)
option-new-description = Démarrer une réunion distincte au lieu du pont permanent du salon
option-ring-description = Appeler quelqu'un dans le pont : tapez son nom ou son e-mail professionnel

## L'annonce

announce-new-standing = Nouveau pont : la réunion Teams permanente de ce salon.
announce-new-separate = Nouvelle réunion Teams distincte.
announce-standing = Le pont permanent de ce salon.
announce-standing-created = Le pont permanent de ce salon, créé { $since }.
announce-click-title = Cliquez sur le titre pour rejoindre la réunion.
no-dial-in = Pas d'accès par téléphone : l'organisateur n'a pas de licence d'audioconférence Teams. Rejoignez la réunion avec le lien.
field-dial-in = Accès par téléphone
field-conference-id = ID de conférence
field-join-by-id = Rejoindre avec un ID
join-by-id = ID de réunion { $id }
join-by-id-passcode = ID de réunion { $id } · code secret { $passcode }
number-toll = Payant
number-toll-free = Gratuit
dial-line = { $kind } : { $number }
dial-line-one-tap = { $kind } : { $number } · appel direct { $tap }
dial-more = { $count ->
    [one] … et 1 autre sur la page « Numéros locaux »
   *[other] … et { $count } autres sur la page « Numéros locaux »
}
button-join = Rejoindre la réunion
button-local-numbers = Numéros locaux
button-attendance = Présence
default-subject = Pont de #{ $channel }
default-subject-unnamed = Pont de l'incident
live-pointer = L'état en direct de ce pont se trouve sur son annonce épinglée.

## État en direct

live-title = { $count ->
    [one] Appel en cours : { $count } personne
   *[other] Appel en cours : { $count } personnes
}
live-title-empty = Appel en cours
live-started = Commencé à { $time } ({ $ago }).
live-nobody = Personne n'est dans l'appel pour l'instant.
live-on-call = **Dans l'appel ({ $count }) :** { $names }
live-lobby = **En salle d'attente ({ $count }) :** { $names }
list-separator = {", "}
live-names-more = { $count ->
    [one] { $names } et 1 autre
   *[other] { $names } et { $count } autres
}
no-display-name = (sans nom d'affichage)
ended-title = Appel terminé
ended-at = Terminé à { $time } ({ $ago }).
ended-at-after = Terminé à { $time } ({ $ago }), après { $duration }.
ended-joined = { $count ->
    [0] Personne n'a rejoint l'appel.
    [one] { $count } personne a rejoint l'appel.
   *[other] { $count } personnes ont rejoint l'appel.
}
ended-open = Le pont reste ouvert : « Rejoindre la réunion » lance le prochain appel.
duration-under-a-minute = moins d'une minute
duration-minutes = { $minutes } min
duration-hours = { $hours } h
duration-hours-minutes = { $hours } h { $minutes } min

## Présence (visible seulement par qui a cliqué)

attendance-title = Qui était sur le pont
attendance-none = Aucun appel n'est encore terminé sur ce pont. Teams publie la présence quelques minutes après la fin d'un appel.
attendance-call = **Appel { $number }** · { $start } – { $end }
attendance-call-joined = **Appel { $number }** · { $start } – { $end } · participants : { $count }
attendance-more = { $count ->
    [one] … et 1 autre
   *[other] … et { $count } autres
}
attendance-no-bridge = Ce message n'annonce aucun pont : il n'y a pas de présence à afficher.
role-organizer = Organisateur
role-presenter = Présentateur
role-attendee = Participant
role-producer = Producteur
role-coorganizer = Coorganisateur
seconds = { $seconds } s
hours-minutes-padded = { $hours } h { $minutes } min

## Réponses privées : qui peut l'utiliser, les options, les redémarrages

refused-no-server = meetnow fonctionne dans les salons d'un serveur, pas dans les messages privés.
refused-other-server = meetnow n'est pas configuré pour ce serveur : il ne peut pas démarrer de pont ici. Demandez aux administrateurs qui le gèrent d'ajouter ce serveur à MEETNOW_ALLOWED_GUILD_IDS.
refused-no-role = Il vous faut l'un des rôles que ce serveur autorise pour utiliser meetnow ici. Adressez-vous à un administrateur du serveur.
subject-too-long = L'objet est trop long (caractères : { $length }, maximum : { $max }). Raccourcissez-le et relancez /meetnow.
restarting = meetnow redémarre. Relancez /meetnow dans quelques secondes.

## Appeler quelqu'un dans le pont (/meetnow ring:)

ring-ringing = 📞 Appel en cours vers { $name }…
ring-ringing-detail = Son Teams sonne. Cette ligne changera dès la réponse.
ring-joined = ✅ { $name } a rejoint le pont
ring-declined = { $name } a refusé l'appel
ring-no-answer = Pas de réponse de { $name } après { $waited }
ring-unreachable = Impossible d'appeler { $name } dans Teams
ring-unreachable-detail = Teams n'a aucun compte à faire sonner pour cette personne : elle n'a peut-être pas de licence Teams, ou ne fait pas partie de votre organisation. Joignez-la autrement.
ring-failed = Impossible d'appeler { $name }
ring-error-forbidden = Teams a refusé l'appel du bot (403). L'application a besoin des autorisations d'application Calls.JoinGroupCall.All et Calls.InitiateGroupCall.All avec le consentement de l'administrateur, et son Azure Bot a besoin du canal Microsoft Teams avec les appels activés et du webhook d'appel qu'affiche `meetnow check`.
ring-error-not-joined = Le bot n'a pas pu rejoindre l'appel du pont à temps, personne n'a donc été appelé. Réessayez ; si cela se reproduit, vérifiez le webhook d'appel de l'Azure Bot (`meetnow check` l'affiche).
ring-error-refused = Teams n'a pas passé l'appel (code { $code }) : { $message }
ring-off = Les appels ne sont pas activés pour ce bot, personne n'a donc été appelé. /meetnow sans `ring:` vous donne toujours le pont. Les administrateurs de meetnow l'activent avec MEETNOW_RING=true (README : Ring them in).
ring-not-found = Personne dans l'annuaire de votre organisation ne correspond à { $query }, personne n'a donc été appelé. Choisissez un nom parmi les suggestions, ou tapez son adresse e-mail professionnelle.
ring-repeat = Un appel a déjà été passé à { $name } sur ce pont { $ago } ; pas de nouvel appel. Attendez une minute avant de rappeler.
ring-busy = meetnow appelle en ce moment autant de personnes qu'il le peut à la fois, personne n'a donc été appelé. Réessayez dans une minute.
ring-directory-forbidden = L'annuaire a refusé de rechercher la personne (403) : l'application a besoin de l'autorisation d'application User.ReadBasic.All avec le consentement de l'administrateur (Centre d'administration Microsoft Entra → Inscriptions d'applications → l'application → Autorisations d'API). `meetnow check` indique celles qu'elle a.

## Les refus de Microsoft et comment les corriger

error-access-policy = Teams a refusé de créer la réunion : aucune stratégie d'accès aux applications (application access policy) ne permet à cette application de créer des réunions pour l'organisateur. Un administrateur Teams doit exécuter ceci une fois dans PowerShell (d'abord `Import-Module MicrosoftTeams; Connect-MicrosoftTeams`) :
    `New-CsApplicationAccessPolicy -Identity MeetNow -AppIds "{ $client }" -Description "Discord /meetnow"`
    `Grant-CsApplicationAccessPolicy -PolicyName MeetNow -Identity "{ $organizer }"`
    La stratégie peut mettre jusqu'à 30 minutes à s'appliquer.
error-forbidden = Teams a refusé de créer la réunion (403). En général, il manque à l'application le consentement administrateur pour l'autorisation d'application OnlineMeetings.ReadWrite.All (Entra admin center → App registrations → l'application → API permissions → l'ajouter → Grant admin consent), ou l'organisateur est un invité ou n'a pas de licence Teams. `meetnow check` indique laquelle de ces causes s'applique.
error-organizer-not-found = Graph n'a aucun utilisateur { $organizer } dans ce locataire. MEETNOW_ORGANIZER_ID doit être l'ID d'objet Entra d'un utilisateur Teams disposant d'une licence dans le locataire de l'application (Entra admin center → Users → Object ID).
error-unauthorized = Graph n'a pas accepté le jeton de l'application, même un nouveau. Vérifiez qu'AZURE_TENANT_ID est le locataire qui a donné son consentement et que GRAPH_ENDPOINT est dans le même cloud qu'AZURE_AUTHORITY_HOST.
error-throttled = { $seconds ->
    [one] Teams limite les demandes de réunion en ce moment. Réessayez dans 1 seconde.
   *[other] Teams limite les demandes de réunion en ce moment. Réessayez dans { $seconds } secondes.
}
error-unavailable = Microsoft Teams (Graph) ne répond pas en ce moment : aucune réunion n'a été créée. Réessayez dans une minute ; `meetnow create` fonctionne aussi depuis un terminal.
error-refused = Graph a refusé la demande (HTTP { $status }, { $code }) : { $message }. Lancez `meetnow check` pour tester la configuration.
error-attendance-permission = Lire la présence demande l'autorisation d'application { $role }. Dans Entra admin center → App registrations → l'application → API permissions, ajoutez Microsoft Graph → Application permissions → { $role }, puis cliquez sur Grant admin consent (la stratégie d'accès aux applications déjà en place la couvre). `meetnow check` indique si le jeton la contient.
error-meeting-not-found = Ce pont ne fait plus partie des réunions de l'organisateur (supprimé, ou créé par un autre organisateur) : sa présence ne peut pas être lue.
error-unexpected-response = Microsoft Graph a envoyé une réponse que meetnow ne sait pas lire (HTTP { $status }) : aucun lien n'a été publié. Réessayez dans un instant.
error-untrusted-certificate = Le certificat TLS de { $host } n'est pas signé par une autorité de certification à laquelle cet hôte fait confiance. Derrière un proxy d'entreprise qui inspecte TLS, placez son certificat d'AC (PEM) dans un fichier et indiquez ce fichier dans SSL_CERT_FILE, ou ajoutez le certificat au magasin du système (par exemple /usr/local/share/ca-certificates et `update-ca-certificates`).
sign-in-secret-invalid = Le service de connexion Microsoft (Entra ID) a refusé le secret client (AADSTS7000215). AZURE_CLIENT_SECRET doit contenir la valeur (Value) du secret, pas son Secret ID : dans App registrations → Certificates & secrets, créez un nouveau secret client et copiez sa Value.
sign-in-secret-expired = Le secret client de l'application a expiré (AADSTS7000222). Créez-en un nouveau dans App registrations → Certificates & secrets et mettez sa Value dans AZURE_CLIENT_SECRET.
sign-in-no-app = Le service de connexion Microsoft (Entra ID) n'a trouvé aucune application { $client } dans le locataire { $tenant } (AADSTS700016). Vérifiez AZURE_CLIENT_ID (l'Application (client) ID) et qu'AZURE_TENANT_ID est bien le locataire de l'application.
sign-in-no-tenant = Le service de connexion Microsoft (Entra ID) n'a trouvé aucun locataire { $tenant } (AADSTS90002). Vérifiez AZURE_TENANT_ID et, pour les clouds gouvernementaux, AZURE_AUTHORITY_HOST (https://login.microsoftonline.us).
sign-in-invalid-tenant = AZURE_TENANT_ID { $tenant } n'est pas un locataire valide (AADSTS900023) : utilisez le GUID du Directory (tenant) ID ou le domaine du locataire.
sign-in-scope = Le service de connexion Microsoft (Entra ID) a refusé l'étendue (scope) demandée (AADSTS70011) : GRAPH_ENDPOINT doit être la racine Graph de votre cloud, par exemple https://graph.microsoft.com.
sign-in-certificate-unknown = Le service de connexion Microsoft (Entra ID) n'a pas pu vérifier l'assertion client avec un certificat de l'application { $client } (AADSTS700027) : le certificat d'AZURE_CLIENT_CERTIFICATE_PATH n'est pas chargé dans l'inscription de l'application, ou en a été retiré. Chargez-le (le certificat seulement, jamais la clé) : App registrations → l'application → Certificates & secrets → Certificates → Upload certificate ; son empreinte doit correspondre à celle qu'affiche `meetnow check`.
sign-in-federated-expired = Le service de connexion Microsoft (Entra ID) a refusé le jeton fédéré, qui a expiré (AADSTS700024). Le fichier d'AZURE_FEDERATED_TOKEN_FILE n'est plus renouvelé : sur Kubernetes, vérifiez que le pod monte toujours le jeton projeté du compte de service (le webhook d'identité de charge de travail l'ajoute) et redémarrez-le.
sign-in-clock = Le service de connexion Microsoft (Entra ID) a refusé l'assertion client, hors de sa période de validité (AADSTS700024) : l'horloge de cet hôte est fausse. Synchronisez-la (NTP, par exemple `timedatectl set-ntp true`).
sign-in-federated-mismatch = Aucune information d'identification fédérée de l'application { $client } ne correspond au jeton d'AZURE_FEDERATED_TOKEN_FILE (AADSTS{ $code }). Dans App registrations → l'application → Certificates & secrets → Federated credentials, ajoutez-en une dont l'émetteur est celui du jeton (l'URL d'émetteur OIDC de votre cluster : `az aks show -n CLUSTER -g GROUP --query oidcIssuerProfile.issuerUrl -o tsv`), dont le sujet est system:serviceaccount:NAMESPACE:SERVICE-ACCOUNT et dont l'audience est api://AzureADTokenExchange.
sign-in-assertion-other-app = L'assertion client désigne une autre application qu'AZURE_CLIENT_ID { $client } (AADSTS700021) : utilisez l'ID client de l'application à laquelle appartiennent le certificat ou l'information d'identification fédérée.
sign-in-assertion-unreadable = Le service de connexion Microsoft (Entra ID) n'a pas pu lire l'assertion client : ce n'est pas un jeton (AADSTS50027). { $variable } doit contenir un JWT (pour un fichier de jeton fédéré, celui que votre plateforme y écrit).
sign-in-refused-code = Le service de connexion Microsoft (Entra ID) a refusé l'application (AADSTS{ $code }, { $error }). Vérifiez AZURE_TENANT_ID, AZURE_CLIENT_ID et { $variable } ; `meetnow check` les teste.
sign-in-refused = Le service de connexion Microsoft (Entra ID) a refusé l'application ({ $error }). Vérifiez AZURE_TENANT_ID, AZURE_CLIENT_ID et { $variable } ; `meetnow check` les teste.
sign-in-credential = La connexion à Microsoft a échoué avant même de commencer : { $detail }.
sign-in-identity-refused = Le point de terminaison de l'identité managée a refusé de donner un jeton (HTTP { $status } : { $explanation }). Vérifiez que cet hôte a une identité managée (attribuée par le système, ou par l'utilisateur avec AZURE_CLIENT_ID comme ID client) et que l'identité a le rôle d'application OnlineMeetings.ReadWrite.All.
sign-in-unavailable = Le service de connexion Microsoft (Entra ID) ne répond pas en ce moment : aucune réunion n'a été créée. Réessayez dans une minute.
sign-in-malformed = Le service de connexion Microsoft (Entra ID) a envoyé un jeton que meetnow ne sait pas lire. Vérifiez AZURE_AUTHORITY_HOST ; ce doit être https://login.microsoftonline.com ou l'équivalent de votre cloud.
