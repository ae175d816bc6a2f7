# Mensajes de meetnow en Discord, en español, para es-ES y es-419: un español neutro que sirve a ambos (sin
# peninsularismos: "agregar", "en tiempo real", "la línea de comandos", "expiró"), tuteo. Los mismos
# identificadores y argumentos que en.ftl (sus comentarios dicen qué es cada argumento). Los comandos, los nombres
# de variables, las rutas de los portales y PowerShell se mantienen tal cual: deben coincidir con lo que el
# administrador escribe y ve. Los términos de Teams son los de la interfaz de Teams en español (ver
# locales/README.md).

## Registro de /meetnow

command-description = Inicia o vuelve a abrir el puente de Microsoft Teams de este canal
option-subject-description = Asunto de la reunión (predeterminado: puente de #canal)
option-new-description = Inicia una reunión aparte en lugar del puente permanente del canal
option-ring-description = Llama a alguien al puente: empieza a escribir su nombre o su correo de trabajo

## El anuncio

announce-new-standing = Nuevo puente: la reunión permanente de Teams de este canal.
announce-new-separate = Nueva reunión de Teams aparte.
announce-standing = El puente permanente de este canal.
announce-standing-created = El puente permanente de este canal, creado { $since }.
announce-click-title = Haz clic en el título para unirte a la reunión.
no-dial-in = Sin acceso telefónico: el organizador no tiene licencia de Audioconferencia de Teams. Únete con el vínculo de la reunión.
field-dial-in = Acceso telefónico
field-conference-id = Id. de conferencia
field-join-by-id = Unirse con el id.
join-by-id = Id. de reunión { $id }
join-by-id-passcode = Id. de reunión { $id } · código de acceso { $passcode }
number-toll = De pago
number-toll-free = Gratuito
dial-line = { $kind }: { $number }
dial-line-one-tap = { $kind }: { $number } · marcado rápido { $tap }
dial-more = { $count ->
    [one] … y 1 más en la página «Números locales»
   *[other] … y { $count } más en la página «Números locales»
}
button-join = Unirse a la reunión
button-local-numbers = Números locales
button-attendance = Asistencia
default-subject = Puente de #{ $channel }
default-subject-unnamed = Puente del incidente
live-pointer = El estado en tiempo real de este puente está en su anuncio fijado.

## Estado en tiempo real

live-title = { $count ->
    [one] Llamada en curso: 1 persona
   *[other] Llamada en curso: { $count } personas
}
live-title-empty = Llamada en curso
live-started = Empezó a las { $time } ({ $ago }).
live-nobody = Ahora mismo no hay nadie en la llamada.
live-on-call = **En la llamada ({ $count }):** { $names }
live-lobby = **En la sala de espera ({ $count }):** { $names }
list-separator = {", "}
live-names-more = { $count ->
    [one] { $names } y 1 más
   *[other] { $names } y { $count } más
}
no-display-name = (sin nombre para mostrar)
ended-title = Llamada finalizada
ended-at = Finalizó a las { $time } ({ $ago }).
ended-at-after = Finalizó a las { $time } ({ $ago }), tras { $duration }.
ended-joined = { $count ->
    [0] No se unió nadie.
    [one] Se unió 1 persona.
   *[other] Se unieron { $count } personas.
}
ended-open = El puente sigue abierto: «Unirse a la reunión» inicia la próxima llamada.
duration-under-a-minute = menos de un minuto
duration-minutes = { $minutes } min
duration-hours = { $hours } h
duration-hours-minutes = { $hours } h { $minutes } min

## Asistencia (solo la ve quien hizo clic)

attendance-title = Quién estuvo en el puente
attendance-none = Todavía no ha finalizado ninguna llamada en este puente. Teams publica la asistencia unos minutos después de que termine una llamada.
attendance-call = **Llamada { $number }** · { $start } – { $end }
attendance-call-joined = **Llamada { $number }** · { $start } – { $end } · participantes: { $count }
attendance-more = { $count ->
    [one] … y 1 más
   *[other] … y { $count } más
}
attendance-no-bridge = Este mensaje no anuncia ningún puente, así que no hay asistencia que mostrar.
role-organizer = Organizador
role-presenter = Moderador
role-attendee = Asistente
role-producer = Productor
role-coorganizer = Coorganizador
seconds = { $seconds } s
hours-minutes-padded = { $hours } h { $minutes } min

## Respuestas privadas: quién puede usarlo, las opciones, los reinicios

refused-no-server = meetnow funciona en los canales de un servidor, no en mensajes directos.
refused-other-server = meetnow no está configurado para este servidor, así que no puede iniciar un puente aquí. Pide a los administradores que lo gestionan que agreguen este servidor a MEETNOW_ALLOWED_GUILD_IDS.
refused-no-role = Necesitas uno de los roles que este servidor permite para usar meetnow aquí. Pregunta a un administrador del servidor.
subject-too-long = El asunto es demasiado largo (caracteres: { $length }; máximo: { $max }). Acórtalo y vuelve a ejecutar /meetnow.
restarting = meetnow se está reiniciando. Vuelve a ejecutar /meetnow en unos segundos.

## Llamar a alguien al puente (/meetnow ring:)

ring-ringing = 📞 Llamando a { $name }…
ring-ringing-detail = Su Teams está sonando. Esta línea cambiará cuando responda.
ring-joined = ✅ { $name } se unió al puente
ring-declined = { $name } rechazó la llamada
ring-no-answer = { $name } no respondió en { $waited }
ring-unreachable = No se puede llamar a { $name } en Teams
ring-unreachable-detail = Teams no tiene ninguna cuenta a la que llamar para esa persona: puede que no tenga licencia de Teams o que no pertenezca a tu organización. Localízala por otra vía.
ring-failed = No se pudo llamar a { $name }
ring-error-forbidden = Teams rechazó la llamada del bot (403). La aplicación necesita los permisos de aplicación Calls.JoinGroupCall.All y Calls.InitiateGroupCall.All con consentimiento de administrador, y su Azure Bot necesita el canal de Microsoft Teams con las llamadas habilitadas y el webhook de llamadas que muestra `meetnow check`.
ring-error-not-joined = El bot no pudo unirse a tiempo a la llamada del puente, así que no se llamó a nadie. Vuelve a intentarlo; si sigue ocurriendo, revisa el webhook de llamadas del Azure Bot (`meetnow check` lo muestra).
ring-error-refused = Teams no realizó la llamada (código { $code }): { $message }
ring-off = Las llamadas no están activadas en este bot, así que no se llamó a nadie. /meetnow sin `ring:` te sigue dando el puente. Quienes administran meetnow lo activan con MEETNOW_RING=true (README: Ring them in).
ring-not-found = Nadie del directorio de tu organización coincide con { $query }, así que no se llamó a nadie. Elige un nombre de las sugerencias o escribe su dirección de correo de trabajo.
ring-repeat = Ya se llamó a { $name } en este puente { $ago }, así que no se le volvió a llamar. Espera un minuto antes de volver a llamar.
ring-busy = meetnow está llamando ahora a todas las personas que puede a la vez, así que no se llamó a nadie. Vuelve a intentarlo en un minuto.
ring-directory-forbidden = El directorio rechazó la búsqueda de la persona (403): la aplicación necesita el permiso de aplicación User.ReadBasic.All con consentimiento de administrador (Centro de administración de Microsoft Entra → Registros de aplicaciones → la aplicación → Permisos de API). `meetnow check` muestra cuáles tiene.

## Los rechazos de Microsoft y cómo resolverlos

error-access-policy = Teams se negó a crear la reunión: ninguna directiva de acceso a aplicaciones (application access policy) permite a esta aplicación crear reuniones en nombre del organizador. Un administrador de Teams debe ejecutar esto una vez en PowerShell (antes, `Import-Module MicrosoftTeams; Connect-MicrosoftTeams`):
    `New-CsApplicationAccessPolicy -Identity MeetNow -AppIds "{ $client }" -Description "Discord /meetnow"`
    `Grant-CsApplicationAccessPolicy -PolicyName MeetNow -Identity "{ $organizer }"`
    La directiva puede tardar hasta 30 minutos en aplicarse.
error-forbidden = Teams se negó a crear la reunión (403). Normalmente a la aplicación le falta el consentimiento de administrador para el permiso de aplicación OnlineMeetings.ReadWrite.All (Entra admin center → App registrations → la aplicación → API permissions → agrégalo → Grant admin consent), o el organizador es un invitado o no tiene licencia de Teams. `meetnow check` indica cuál.
error-organizer-not-found = Graph no tiene ningún usuario { $organizer } en este inquilino. MEETNOW_ORGANIZER_ID debe ser el id. de objeto de Entra de un usuario de Teams con licencia en el inquilino de la aplicación (Entra admin center → Users → Object ID).
error-unauthorized = Graph no aceptó el token de la aplicación, ni siquiera uno nuevo. Verifica que AZURE_TENANT_ID sea el inquilino que dio el consentimiento y que GRAPH_ENDPOINT esté en la misma nube que AZURE_AUTHORITY_HOST.
error-throttled = { $seconds ->
    [one] Teams está limitando las solicitudes de reuniones en este momento. Vuelve a intentarlo en 1 segundo.
   *[other] Teams está limitando las solicitudes de reuniones en este momento. Vuelve a intentarlo en { $seconds } segundos.
}
error-unavailable = Microsoft Teams (Graph) no responde en este momento, así que no se creó ninguna reunión. Vuelve a intentarlo en un minuto; `meetnow create` también funciona desde la línea de comandos.
error-refused = Graph rechazó la solicitud (HTTP { $status }, { $code }): { $message }. Ejecuta `meetnow check` para probar la configuración.
error-attendance-permission = Para leer la asistencia se necesita el permiso de aplicación { $role }. En Entra admin center → App registrations → la aplicación → API permissions, agrega Microsoft Graph → Application permissions → { $role } y haz clic en Grant admin consent (la directiva de acceso a aplicaciones que ya existe lo cubre). `meetnow check` muestra si el token lo incluye.
error-meeting-not-found = Este puente ya no es una de las reuniones del organizador (se eliminó o la creó otro organizador), así que no se puede leer su asistencia.
error-unexpected-response = Microsoft Graph envió una respuesta que meetnow no puede leer (HTTP { $status }), así que no se publicó ningún vínculo. Vuelve a intentarlo en un momento.
error-untrusted-certificate = El certificado TLS de { $host } no está firmado por una entidad de certificación en la que confíe este equipo. Si estás detrás de un proxy corporativo que inspecciona TLS, guarda su certificado de CA (PEM) en un archivo y apunta SSL_CERT_FILE a él, o agrégalo al almacén del sistema (por ejemplo, /usr/local/share/ca-certificates y `update-ca-certificates`).
sign-in-secret-invalid = El servicio de inicio de sesión de Microsoft (Entra ID) rechazó el secreto de cliente (AADSTS7000215). AZURE_CLIENT_SECRET debe ser el valor (Value) del secreto, no su Secret ID: en App registrations → Certificates & secrets crea un secreto de cliente nuevo y copia su Value.
sign-in-secret-expired = El secreto de cliente de la aplicación expiró (AADSTS7000222). Crea uno nuevo en App registrations → Certificates & secrets y pon su Value en AZURE_CLIENT_SECRET.
sign-in-no-app = El servicio de inicio de sesión de Microsoft (Entra ID) no encontró la aplicación { $client } en el inquilino { $tenant } (AADSTS700016). Verifica AZURE_CLIENT_ID (el Application (client) ID) y que AZURE_TENANT_ID sea el inquilino al que pertenece la aplicación.
sign-in-no-tenant = El servicio de inicio de sesión de Microsoft (Entra ID) no encontró el inquilino { $tenant } (AADSTS90002). Verifica AZURE_TENANT_ID y, en las nubes gubernamentales, AZURE_AUTHORITY_HOST (https://login.microsoftonline.us).
sign-in-invalid-tenant = AZURE_TENANT_ID { $tenant } no es un inquilino válido (AADSTS900023): usa el GUID del Directory (tenant) ID o el dominio del inquilino.
sign-in-scope = El servicio de inicio de sesión de Microsoft (Entra ID) rechazó el ámbito (AADSTS70011): GRAPH_ENDPOINT debe ser la raíz de Graph de tu nube, por ejemplo https://graph.microsoft.com.
sign-in-certificate-unknown = El servicio de inicio de sesión de Microsoft (Entra ID) no pudo verificar la aserción de cliente con un certificado de la aplicación { $client } (AADSTS700027): el certificado de AZURE_CLIENT_CERTIFICATE_PATH no está cargado en el registro de la aplicación o se quitó. Cárgalo (solo el certificado, nunca la clave): App registrations → la aplicación → Certificates & secrets → Certificates → Upload certificate; su huella digital debe coincidir con la que muestra `meetnow check`.
sign-in-federated-expired = El servicio de inicio de sesión de Microsoft (Entra ID) rechazó el token federado porque expiró (AADSTS700024). El archivo de AZURE_FEDERATED_TOKEN_FILE ya no se actualiza: en Kubernetes, verifica que el pod siga montando el token proyectado de la cuenta de servicio (lo agrega el webhook de identidad de carga de trabajo) y reinícialo.
sign-in-clock = El servicio de inicio de sesión de Microsoft (Entra ID) rechazó la aserción de cliente por estar fuera de su periodo de validez (AADSTS700024): el reloj de este equipo está mal. Sincronízalo (NTP, por ejemplo `timedatectl set-ntp true`).
sign-in-federated-mismatch = Ninguna credencial federada de la aplicación { $client } coincide con el token de AZURE_FEDERATED_TOKEN_FILE (AADSTS{ $code }). En App registrations → la aplicación → Certificates & secrets → Federated credentials, agrega una cuyo emisor sea el emisor del token (la URL del emisor OIDC de tu clúster: `az aks show -n CLUSTER -g GROUP --query oidcIssuerProfile.issuerUrl -o tsv`), cuyo sujeto sea system:serviceaccount:NAMESPACE:SERVICE-ACCOUNT y cuya audiencia sea api://AzureADTokenExchange.
sign-in-assertion-other-app = La aserción de cliente nombra otra aplicación distinta de AZURE_CLIENT_ID { $client } (AADSTS700021): usa el id. de cliente de la aplicación a la que pertenecen el certificado o la credencial federada.
sign-in-assertion-unreadable = El servicio de inicio de sesión de Microsoft (Entra ID) no pudo leer la aserción de cliente como token (AADSTS50027): { $variable } debe contener un JWT (en un archivo de token federado, el token que escribió allí tu plataforma).
sign-in-refused-code = El servicio de inicio de sesión de Microsoft (Entra ID) rechazó la aplicación (AADSTS{ $code }, { $error }). Verifica AZURE_TENANT_ID, AZURE_CLIENT_ID y { $variable }; `meetnow check` los prueba.
sign-in-refused = El servicio de inicio de sesión de Microsoft (Entra ID) rechazó la aplicación ({ $error }). Verifica AZURE_TENANT_ID, AZURE_CLIENT_ID y { $variable }; `meetnow check` los prueba.
sign-in-credential = El inicio de sesión en Microsoft falló antes de empezar: { $detail }.
sign-in-identity-refused = El punto de conexión de la identidad administrada se negó a dar un token (HTTP { $status }: { $explanation }). Verifica que este equipo tenga una identidad administrada (asignada por el sistema, o por el usuario con AZURE_CLIENT_ID como id. de cliente) y que la identidad tenga el rol de aplicación OnlineMeetings.ReadWrite.All.
sign-in-unavailable = El servicio de inicio de sesión de Microsoft (Entra ID) no responde en este momento, así que no se creó ninguna reunión. Vuelve a intentarlo en un minuto.
sign-in-malformed = El servicio de inicio de sesión de Microsoft (Entra ID) envió un token que meetnow no puede leer. Verifica AZURE_AUTHORITY_HOST; debería ser https://login.microsoftonline.com o el equivalente de tu nube.
