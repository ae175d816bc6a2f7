# meetnow's messages in Discord, English (the default and the fallback). One message per id; every locale file
# has the same ids with the same arguments (a test checks). Commands, variable names, portal paths and
# PowerShell stay as they are in every language: they must match what the admin types and sees.
# Arguments are filled in by the bot, already cleaned and escaped. The comment above a message says what each
# of its arguments is. Two kinds of time come as Discord timestamps (<t:…>), which Discord shows each reader
# in their own time zone and language:
#   a clock time ($time, $end): "14:03";
#   a date and clock time ($start): "1 December 2026 14:03";
#   a relative time ($ago, $since): "5 minutes ago", "3 days ago" (already with its "ago").
# Every number that counts something ($count, $seconds, $length, $max) needs a plural select, or a label
# form where no noun follows the number ("joined: 3"); a test checks, in every language. See locales/README.md.

## /meetnow's registration (Discord shows these in the command picker)

command-description = Start or rejoin this channel's Microsoft Teams bridge
option-subject-description = Meeting subject (default: #channel bridge)
option-new-description = Start a separate meeting instead of the channel's standing bridge
option-ring-description = Ring someone into the bridge: start typing their name or work e-mail

## The announcement

announce-new-standing = New bridge: this channel's standing Teams meeting.
announce-new-separate = New separate Teams meeting.
announce-standing = This channel's standing bridge.
# $since: when the bridge was made, a relative time ("3 days ago").
announce-standing-created = This channel's standing bridge, created { $since }.
announce-click-title = Click the title to join the meeting.
no-dial-in = No phone dial-in: the organizer has no Teams Audio Conferencing licence. Join with the meeting link.
field-dial-in = Dial in
field-conference-id = Conference ID
field-join-by-id = Join by ID
# $id: the meeting ID people type in Teams ("250 123 456 789").
join-by-id = Meeting ID { $id }
# $id: the meeting ID; $passcode: its passcode.
join-by-id-passcode = Meeting ID { $id } · passcode { $passcode }
number-toll = Toll
number-toll-free = Toll-free
# $kind: number-toll or number-toll-free; $number: a phone number.
dial-line = { $kind }: { $number }
# $kind: number-toll or number-toll-free; $number: a phone number; $tap: the same number with the conference
# ID, for a phone to dial in one tap.
dial-line-one-tap = { $kind }: { $number } · one tap { $tap }
# $count: how many more phone numbers there are.
dial-more = { $count ->
    [one] … and 1 more on the "Local numbers" page
   *[other] … and { $count } more on the "Local numbers" page
}
button-join = Join meeting
button-local-numbers = Local numbers
button-attendance = Attendance
# $channel: the Discord channel's name, without its "#".
default-subject = #{ $channel } bridge
default-subject-unnamed = Incident bridge
live-pointer = Live status of this bridge: on its pinned announcement.

## Live status (the announcement's second part)

# $count: how many people are on the call.
live-title = { $count ->
    [one] Call in progress: 1 person
   *[other] Call in progress: { $count } people
}
live-title-empty = Call in progress
# $time: when the call started, a clock time; $ago: the same, a relative time.
live-started = Started at { $time } ({ $ago }).
live-nobody = Nobody is on the call right now.
# $count: how many are on the call; $names: their names, joined with list-separator (and live-names-more).
live-on-call = **On the call ({ $count }):** { $names }
# $count: how many wait in the lobby; $names: their names, as in live-on-call.
live-lobby = **In the lobby ({ $count }):** { $names }
# What joins two names in a list: a comma and a space in English (a string literal, to keep the space).
list-separator = {", "}
# $names: the names shown, joined with list-separator; $count: how many more are not shown.
live-names-more = { $count ->
    [one] { $names }, and 1 more
   *[other] { $names }, and { $count } more
}
no-display-name = (no display name)
ended-title = Call ended
# $time: when the call ended, a clock time; $ago: the same, a relative time.
ended-at = Ended at { $time } ({ $ago }).
# $time, $ago: as in ended-at; $duration: how long it lasted (duration-minutes and the like).
ended-at-after = Ended at { $time } ({ $ago }), after { $duration }.
# $count: how many people joined the call, in all.
ended-joined = { $count ->
    [0] Nobody joined.
    [one] 1 person joined.
   *[other] { $count } people joined.
}
ended-open = The bridge stays open: "Join meeting" starts the next call.
duration-under-a-minute = under a minute
# $minutes: a number of minutes, with the unit's abbreviation (no plural).
duration-minutes = { $minutes } min
# $hours: a number of hours, with the unit's abbreviation (no plural).
duration-hours = { $hours } h
# $hours, $minutes: as in duration-hours and duration-minutes.
duration-hours-minutes = { $hours } h { $minutes } min

## Attendance (private to whoever clicked)

attendance-title = Who was on the bridge
attendance-none = No call on this bridge has ended yet. Teams publishes who attended a few minutes after a call ends.
# $number: the call's number on this bridge (1, 2, …); $start: when it started, a date and clock time; $end:
# when it ended, a clock time.
attendance-call = **Call { $number }** · { $start } – { $end }
# $number, $start, $end: as in attendance-call; $count: how many people joined it (a label form: no plural).
attendance-call-joined = **Call { $number }** · { $start } – { $end } · joined: { $count }
# $count: how many more attendees there are than are listed.
attendance-more = { $count ->
    [one] … and 1 more
   *[other] … and { $count } more
}
attendance-no-bridge = This message announces no bridge, so there is no attendance to show.
role-organizer = Organizer
role-presenter = Presenter
role-attendee = Attendee
role-producer = Producer
role-coorganizer = Co-organizer
# $seconds: a number of seconds, with the unit's abbreviation (no plural).
seconds = { $seconds } s
# $hours, $minutes: a length of time, with the units' abbreviations (no plural).
hours-minutes-padded = { $hours } h { $minutes } min

## Private answers: who may use it, the options, restarts

refused-no-server = meetnow works in server channels, not in direct messages.
refused-other-server = meetnow is not set up for this server, so it can't start a bridge here. Ask the admins who run it to add this server to MEETNOW_ALLOWED_GUILD_IDS.
refused-no-role = You need one of the roles this server allows to use meetnow here. Ask a server admin.
# $length: how many characters the subject has; $max: how many it may have.
subject-too-long = The subject is too long (characters: { $length }, at most: { $max }). Shorten it and run /meetnow again.
restarting = meetnow is restarting. Run /meetnow again in a few seconds.

## Ringing someone into the bridge (/meetnow ring:): one public line per ring, then private answers

# $name: the person's name from the directory, already made inert (never a mention).
ring-ringing = 📞 Ringing { $name }…
ring-ringing-detail = Their Teams is ringing now. This line changes when they answer.
# $name: as in ring-ringing.
ring-joined = ✅ { $name } joined the bridge
# $name: as in ring-ringing.
ring-declined = { $name } declined the call
# $name: as in ring-ringing; $waited: how long it rang, with its unit ("60 s", from the seconds message).
ring-no-answer = No answer from { $name } after { $waited }
# $name: as in ring-ringing.
ring-unreachable = { $name } can't be rung in Teams
ring-unreachable-detail = Teams has no account it can ring for them: they may have no Teams licence, or be outside your organisation. Reach them another way.
# $name: as in ring-ringing.
ring-failed = Could not ring { $name }
ring-error-forbidden = Teams refused the bot's call (403). The app needs the application permissions Calls.JoinGroupCall.All and Calls.InitiateGroupCall.All with admin consent, and its Azure Bot needs the Microsoft Teams channel with calling enabled and the calling webhook that `meetnow check` prints.
ring-error-not-joined = The bot could not join the bridge's call in time, so nobody was rung. Try again; if it keeps happening, check the Azure Bot's calling webhook (`meetnow check` prints it).
# $code: Teams' result code (a number, not a count); $message: what Teams said.
ring-error-refused = Teams did not place the call (code { $code }): { $message }
ring-off = Ringing is not turned on for this bot, so nobody was rung. /meetnow without `ring:` still gives you the bridge. The admins who run meetnow turn it on with MEETNOW_RING=true (README: Ring them in).
# $query: what was typed in ring:, already made inert.
ring-not-found = Nobody in your organisation's directory matches { $query }, so nobody was rung. Pick a name from the suggestions, or type their work e-mail address.
# $name: as in ring-ringing; $ago: when they were rung, a relative time ("30 seconds ago").
ring-repeat = { $name } was rung on this bridge { $ago }, so they were not rung again. Wait a minute before ringing them again.
ring-busy = meetnow is ringing as many people as it can at once right now, so nobody was rung. Try again in a minute.
ring-directory-forbidden = The directory refused to look the person up (403): the app needs the application permission User.ReadBasic.All with admin consent (Entra admin center → App registrations → the app → API permissions). `meetnow check` shows what it has.

## Microsoft's refusals, with their fixes (also printed in English by `meetnow create` and `meetnow check`)

# $client: the app's client id (a GUID); $organizer: the organizer's object id (a GUID).
error-access-policy = Teams refused to create the meeting: no application access policy lets this app create meetings for the organizer. A Teams administrator must run this once in PowerShell (`Import-Module MicrosoftTeams; Connect-MicrosoftTeams` first):
    `New-CsApplicationAccessPolicy -Identity MeetNow -AppIds "{ $client }" -Description "Discord /meetnow"`
    `Grant-CsApplicationAccessPolicy -PolicyName MeetNow -Identity "{ $organizer }"`
    The policy can take up to 30 minutes to apply.
error-forbidden = Teams refused to create the meeting (403). Usually the app lacks admin consent for the application permission OnlineMeetings.ReadWrite.All (Entra admin center → App registrations → the app → API permissions → add it → Grant admin consent), or the organizer is a guest or has no Teams licence. `meetnow check` shows which.
# $organizer: the organizer's object id, as configured.
error-organizer-not-found = Graph has no user { $organizer } in this tenant. MEETNOW_ORGANIZER_ID must be the Entra object id of a licensed Teams user in the app's tenant (Entra admin center → Users → Object ID).
error-unauthorized = Graph did not accept the app's token, even a fresh one. Check that AZURE_TENANT_ID is the tenant that granted consent and that GRAPH_ENDPOINT is in the same cloud as AZURE_AUTHORITY_HOST.
# $seconds: how long Graph asked to wait.
error-throttled = { $seconds ->
    [one] Teams is throttling meeting requests right now. Try again in 1 second.
   *[other] Teams is throttling meeting requests right now. Try again in { $seconds } seconds.
}
error-unavailable = Microsoft Teams (Graph) is not answering right now, so no meeting was created. Try again in a minute; `meetnow create` works from a terminal too.
# $status: the HTTP status (403); $code: Graph's error code; $message: Graph's own message, in English.
error-refused = Graph refused the request (HTTP { $status }, { $code }): { $message }. Run `meetnow check` to test the setup.
# $role: the Graph permission's name (OnlineMeetingArtifact.Read.All).
error-attendance-permission = Reading who attended needs the application permission { $role }. In Entra admin center → App registrations → the app → API permissions, add Microsoft Graph → Application permissions → { $role }, then click Grant admin consent (the application access policy already in place covers it). `meetnow check` shows whether the token carries it.
error-meeting-not-found = This bridge is not one of the organizer's meetings any more (deleted, or made by another organizer), so its attendance can't be read.
# $status: the HTTP status of the answer.
error-unexpected-response = Microsoft Graph sent a response meetnow can't read (HTTP { $status }), so no link was posted. Try again in a moment.
# $host: the host name whose certificate was not trusted.
error-untrusted-certificate = The TLS certificate of { $host } is not signed by a certificate authority this host trusts. Behind a company proxy that inspects TLS, put its CA certificate (PEM) in a file and point SSL_CERT_FILE at it, or add it to the system's store (e.g. /usr/local/share/ca-certificates and `update-ca-certificates`).
sign-in-secret-invalid = The Microsoft sign-in service (Entra ID) rejected the client secret (AADSTS7000215). AZURE_CLIENT_SECRET must be the secret's Value, not its Secret ID: in App registrations → Certificates & secrets create a new client secret and copy its Value.
sign-in-secret-expired = The app's client secret has expired (AADSTS7000222). Create a new one in App registrations → Certificates & secrets and put its Value in AZURE_CLIENT_SECRET.
# $client: the app's client id; $tenant: the tenant, as configured.
sign-in-no-app = The Microsoft sign-in service (Entra ID) found no app { $client } in tenant { $tenant } (AADSTS700016). Check AZURE_CLIENT_ID (the Application (client) ID) and that AZURE_TENANT_ID is the tenant the app belongs to.
# $tenant: the tenant, as configured.
sign-in-no-tenant = The Microsoft sign-in service (Entra ID) found no tenant { $tenant } (AADSTS90002). Check AZURE_TENANT_ID, and AZURE_AUTHORITY_HOST for government clouds (https://login.microsoftonline.us).
# $tenant: the tenant, as configured.
sign-in-invalid-tenant = AZURE_TENANT_ID { $tenant } is not a valid tenant (AADSTS900023): use the Directory (tenant) ID GUID or the tenant's domain.
sign-in-scope = The Microsoft sign-in service (Entra ID) refused the scope (AADSTS70011): GRAPH_ENDPOINT must be the Graph root of your cloud, e.g. https://graph.microsoft.com.
# $client: the app's client id.
sign-in-certificate-unknown = The Microsoft sign-in service (Entra ID) could not verify the client assertion with a certificate of app { $client } (AADSTS700027): the certificate in AZURE_CLIENT_CERTIFICATE_PATH is not uploaded to the app registration, or was removed. Upload it (the certificate only, never the key): App registrations → the app → Certificates & secrets → Certificates → Upload certificate; its thumbprint must match the one `meetnow check` prints.
sign-in-federated-expired = The Microsoft sign-in service (Entra ID) refused the federated token as expired (AADSTS700024). The file in AZURE_FEDERATED_TOKEN_FILE is no longer being refreshed: on Kubernetes, check that the pod still mounts the projected service account token (the workload identity webhook adds it) and restart it.
sign-in-clock = The Microsoft sign-in service (Entra ID) refused the client assertion as outside its valid time (AADSTS700024): this host's clock is wrong. Synchronise it (NTP, e.g. `timedatectl set-ntp true`).
# $client: the app's client id; $code: the AADSTS number.
sign-in-federated-mismatch = No federated credential of app { $client } matches the token in AZURE_FEDERATED_TOKEN_FILE (AADSTS{ $code }). In App registrations → the app → Certificates & secrets → Federated credentials, add one whose issuer is the token's issuer (your cluster's OIDC issuer URL: `az aks show -n CLUSTER -g GROUP --query oidcIssuerProfile.issuerUrl -o tsv`), whose subject is system:serviceaccount:NAMESPACE:SERVICE-ACCOUNT, and whose audience is api://AzureADTokenExchange.
# $client: the app's client id.
sign-in-assertion-other-app = The client assertion names another app than AZURE_CLIENT_ID { $client } (AADSTS700021): use the client id of the app the certificate or federated credential belongs to.
# $variable: the variable that names the assertion's file.
sign-in-assertion-unreadable = The Microsoft sign-in service (Entra ID) could not read the client assertion as a token (AADSTS50027): { $variable } must hold a JWT (for a federated token file, the token your platform wrote there).
# $code: the AADSTS number; $error: the OAuth error code (invalid_client); $variable: the variable that holds
# the credential.
sign-in-refused-code = The Microsoft sign-in service (Entra ID) refused the app (AADSTS{ $code }, { $error }). Check AZURE_TENANT_ID, AZURE_CLIENT_ID and { $variable }; `meetnow check` tests them.
# $error: the OAuth error code (invalid_client); $variable: the variable that holds the credential.
sign-in-refused = The Microsoft sign-in service (Entra ID) refused the app ({ $error }). Check AZURE_TENANT_ID, AZURE_CLIENT_ID and { $variable }; `meetnow check` tests them.
# $detail: what went wrong, in English (a file that can't be read, a key that doesn't parse).
sign-in-credential = Signing in to Microsoft failed before it started: { $detail }.
# $status: the HTTP status; $explanation: the endpoint's own message, in English.
sign-in-identity-refused = The managed identity endpoint refused to give a token (HTTP { $status }: { $explanation }). Check that this host has a managed identity (system-assigned, or user-assigned with AZURE_CLIENT_ID as its client id) and that the identity has the OnlineMeetings.ReadWrite.All app role.
sign-in-unavailable = The Microsoft sign-in service (Entra ID) is not answering right now, so no meeting was created. Try again in a minute.
sign-in-malformed = The Microsoft sign-in service (Entra ID) sent a token meetnow can't read. Check AZURE_AUTHORITY_HOST; it should be https://login.microsoftonline.com or your cloud's equivalent.
