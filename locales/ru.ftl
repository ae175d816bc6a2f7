# Сообщения meetnow в Discord, русский. Те же идентификаторы и аргументы, что в en.ftl (его комментарии
# объясняют каждый аргумент). Команды, имена переменных, пути в порталах и PowerShell остаются как есть: они
# должны совпадать с тем, что вводит и видит администратор. Термины Teams — как в русском интерфейсе Teams;
# обращение на «вы»; tenant — «клиент (tenant)» при первом упоминании в сообщении (см. locales/README.md).

## Регистрация /meetnow

command-description = Начать или снова открыть бридж этого канала в Microsoft Teams
option-subject-description = Тема собрания (по умолчанию: бридж #канала)
option-new-description = Начать отдельное собрание вместо постоянного бриджа канала
option-ring-description = Позвать человека в бридж: начните вводить имя или рабочую почту

## Объявление

announce-new-standing = Новый бридж: постоянное собрание Teams этого канала.
announce-new-separate = Новое отдельное собрание Teams.
announce-standing = Постоянный бридж этого канала.
announce-standing-created = Постоянный бридж этого канала, создан { $since }.
announce-click-title = Чтобы присоединиться к собранию, нажмите на заголовок.
no-dial-in = Подключения по телефону нет: у организатора нет лицензии на аудиоконференции Teams. Присоединяйтесь по ссылке.
field-dial-in = Подключиться по телефону
field-conference-id = Идентификатор конференции
field-join-by-id = Присоединиться по идентификатору
join-by-id = Идентификатор собрания { $id }
join-by-id-passcode = Идентификатор собрания { $id } · секретный код { $passcode }
number-toll = Платный номер
number-toll-free = Бесплатный номер
dial-line = { $kind }: { $number }
dial-line-one-tap = { $kind }: { $number } · одним касанием { $tap }
dial-more = { $count ->
    [one] … и ещё { $count } номер на странице «Местные номера»
    [few] … и ещё { $count } номера на странице «Местные номера»
   *[many] … и ещё { $count } номеров на странице «Местные номера»
}
button-join = Присоединиться к собранию
button-local-numbers = Местные номера
button-attendance = Посещаемость
default-subject = Бридж #{ $channel }
default-subject-unnamed = Бридж инцидента
live-pointer = Что происходит на звонке, показано в закреплённом объявлении этого бриджа.

## Ход звонка

live-title = { $count ->
    [one] Идёт звонок: { $count } участник
    [few] Идёт звонок: { $count } участника
   *[many] Идёт звонок: { $count } участников
}
live-title-empty = Идёт звонок
live-started = Начался в { $time } ({ $ago }).
live-nobody = Сейчас на звонке никого нет.
live-on-call = **На звонке ({ $count }):** { $names }
live-lobby = **В зале ожидания ({ $count }):** { $names }
list-separator = {", "}
live-names-more = { $names } и ещё { $count }
no-display-name = (без отображаемого имени)
ended-title = Звонок завершён
ended-at = Завершён в { $time } ({ $ago }).
ended-at-after = Завершён в { $time } ({ $ago }), длился { $duration }.
ended-joined = { $count ->
    [0] Никто не присоединился.
    [one] Присоединился { $count } человек.
    [few] Присоединились { $count } человека.
   *[many] Присоединились { $count } человек.
}
ended-open = Бридж остаётся открытым: «Присоединиться к собранию» начнёт следующий звонок.
duration-under-a-minute = меньше минуты
duration-minutes = { $minutes } мин
duration-hours = { $hours } ч
duration-hours-minutes = { $hours } ч { $minutes } мин

## Посещаемость (видна только нажавшему)

attendance-title = Кто был на бридже
attendance-none = На этом бридже ещё не завершился ни один звонок. Teams публикует посещаемость через несколько минут после окончания звонка.
attendance-call = **Звонок { $number }** · { $start } – { $end }
attendance-call-joined = **Звонок { $number }** · { $start } – { $end } · участников: { $count }
attendance-more = … и ещё { $count }
attendance-no-bridge = Это сообщение не объявляет бридж, поэтому показать посещаемость нельзя.
role-organizer = Организатор
role-presenter = Выступающий
role-attendee = Участник
role-producer = Продюсер
role-coorganizer = Соорганизатор
seconds = { $seconds } с
hours-minutes-padded = { $hours } ч { $minutes } мин

## Личные ответы: кто может пользоваться, параметры, перезапуск

refused-no-server = meetnow работает в каналах сервера, а не в личных сообщениях.
refused-other-server = meetnow не настроен для этого сервера, поэтому не может начать здесь бридж. Попросите администраторов бота добавить этот сервер в MEETNOW_ALLOWED_GUILD_IDS.
refused-no-role = Чтобы пользоваться meetnow здесь, нужна одна из ролей, разрешённых на этом сервере. Обратитесь к администратору сервера.
subject-too-long = Тема слишком длинная (символов: { $length }, допустимо: { $max }). Сократите её и повторите /meetnow.
restarting = meetnow перезапускается. Повторите /meetnow через несколько секунд.

## Вызов человека в бридж (/meetnow ring:)

ring-ringing = 📞 Вызываем { $name }…
ring-ringing-detail = У человека сейчас звонит Teams. Эта строка изменится, когда он ответит.
ring-joined = ✅ { $name } — в бридже
ring-declined = { $name } — вызов отклонён
ring-no-answer = { $name } — нет ответа за { $waited }
ring-unreachable = { $name } — не удаётся вызвать в Teams
ring-unreachable-detail = В Teams нет учётной записи, на которую можно позвонить этому человеку: возможно, у него нет лицензии Teams или он не из вашей организации. Свяжитесь с ним иначе.
ring-failed = Не удалось вызвать { $name }
ring-error-forbidden = Teams отклонил звонок бота (403). Приложению нужны разрешения приложения Calls.JoinGroupCall.All и Calls.InitiateGroupCall.All с согласием администратора, а его Azure Bot — канал Microsoft Teams с включёнными звонками и веб-перехватчиком звонков, который выводит `meetnow check`.
ring-error-not-joined = Бот не успел подключиться к звонку бриджа, поэтому никого не вызвали. Попробуйте ещё раз; если это повторяется, проверьте веб-перехватчик звонков Azure Bot (его выводит `meetnow check`).
ring-error-refused = Teams не выполнил вызов (код { $code }): { $message }
ring-off = Вызовы для этого бота не включены, поэтому никого не вызвали. /meetnow без `ring:` по-прежнему даёт бридж. Администраторы meetnow включают вызовы через MEETNOW_RING=true (README: Ring them in).
ring-not-found = В каталоге вашей организации нет никого, кто подходит под { $query }, поэтому никого не вызвали. Выберите имя из подсказок или введите рабочий адрес электронной почты.
ring-repeat = { $name } уже вызывали в этот бридж { $ago }, поэтому повторно не вызвали. Подождите минуту, прежде чем вызывать снова.
ring-busy = meetnow сейчас вызывает столько людей одновременно, сколько может, поэтому никого не вызвали. Попробуйте через минуту.
ring-directory-forbidden = Каталог отказал в поиске человека (403): приложению нужно разрешение приложения User.ReadBasic.All с согласием администратора (центр администрирования Microsoft Entra → Регистрация приложений → приложение → Разрешения API). `meetnow check` показывает, какие разрешения у него есть.

## Отказы Microsoft и как их исправить

error-access-policy = Teams отказался создать собрание: нет политики доступа приложений (application access policy), которая разрешает этому приложению создавать собрания от имени организатора. Администратор Teams должен один раз выполнить в PowerShell (сначала `Import-Module MicrosoftTeams; Connect-MicrosoftTeams`):
    `New-CsApplicationAccessPolicy -Identity MeetNow -AppIds "{ $client }" -Description "Discord /meetnow"`
    `Grant-CsApplicationAccessPolicy -PolicyName MeetNow -Identity "{ $organizer }"`
    Применение политики может занять до 30 минут.
error-forbidden = Teams отказался создать собрание (403). Обычно у приложения нет согласия администратора на разрешение приложения OnlineMeetings.ReadWrite.All (Entra admin center → App registrations → приложение → API permissions → добавьте его → Grant admin consent) или организатор — гость либо у него нет лицензии Teams. Что именно, покажет `meetnow check`.
error-organizer-not-found = В Graph нет пользователя { $organizer } в этом клиенте (tenant). MEETNOW_ORGANIZER_ID должен быть идентификатором объекта Entra лицензированного пользователя Teams из клиента приложения (Entra admin center → Users → Object ID).
error-unauthorized = Graph не принял токен приложения, даже новый. Проверьте, что AZURE_TENANT_ID — клиент (tenant), давший согласие, и что GRAPH_ENDPOINT и AZURE_AUTHORITY_HOST из одного облака.
error-throttled = { $seconds ->
    [one] Teams сейчас ограничивает запросы на собрания. Повторите через { $seconds } секунду.
    [few] Teams сейчас ограничивает запросы на собрания. Повторите через { $seconds } секунды.
   *[many] Teams сейчас ограничивает запросы на собрания. Повторите через { $seconds } секунд.
}
error-unavailable = Microsoft Teams (Graph) сейчас не отвечает, поэтому собрание не создано. Повторите через минуту; из терминала работает и `meetnow create`.
error-refused = Graph отклонил запрос (HTTP { $status }, { $code }): { $message }. Проверьте настройку командой `meetnow check`.
error-attendance-permission = Чтобы читать посещаемость, нужно разрешение приложения { $role }. В Entra admin center → App registrations → приложение → API permissions добавьте Microsoft Graph → Application permissions → { $role } и нажмите Grant admin consent (уже настроенная политика доступа приложений это покрывает). Есть ли оно в токене, покажет `meetnow check`.
error-meeting-not-found = Этот бридж больше не входит в собрания организатора (удалён или создан другим организатором), поэтому его посещаемость прочитать нельзя.
error-unexpected-response = Microsoft Graph прислал ответ, который meetnow не может прочитать (HTTP { $status }), поэтому ссылка не опубликована. Повторите чуть позже.
error-untrusted-certificate = TLS-сертификат { $host } подписан центром сертификации, которому этот хост не доверяет. Если вы за корпоративным прокси, который проверяет TLS, положите его сертификат ЦС (PEM) в файл и укажите его в SSL_CERT_FILE или добавьте в системное хранилище (например, /usr/local/share/ca-certificates и `update-ca-certificates`).
sign-in-secret-invalid = Служба входа Microsoft (Entra ID) отклонила секрет клиента (AADSTS7000215). В AZURE_CLIENT_SECRET должно быть значение секрета (Value), а не его Secret ID: в App registrations → Certificates & secrets создайте новый секрет клиента и скопируйте его Value.
sign-in-secret-expired = Срок действия секрета клиента приложения истёк (AADSTS7000222). Создайте новый в App registrations → Certificates & secrets и укажите его Value в AZURE_CLIENT_SECRET.
sign-in-no-app = Служба входа Microsoft (Entra ID) не нашла приложение { $client } в клиенте (tenant) { $tenant } (AADSTS700016). Проверьте AZURE_CLIENT_ID (Application (client) ID) и что AZURE_TENANT_ID — тот клиент (tenant), которому принадлежит приложение.
sign-in-no-tenant = Служба входа Microsoft (Entra ID) не нашла клиент (tenant) { $tenant } (AADSTS90002). Проверьте AZURE_TENANT_ID, а для государственных облаков — AZURE_AUTHORITY_HOST (https://login.microsoftonline.us).
sign-in-invalid-tenant = AZURE_TENANT_ID { $tenant } — недопустимый клиент (tenant) (AADSTS900023): укажите GUID Directory (tenant) ID или домен клиента.
sign-in-scope = Служба входа Microsoft (Entra ID) отклонила область (scope) (AADSTS70011): GRAPH_ENDPOINT должен быть корнем Graph вашего облака, например https://graph.microsoft.com.
sign-in-certificate-unknown = Служба входа Microsoft (Entra ID) не смогла проверить утверждение клиента сертификатом приложения { $client } (AADSTS700027): сертификат из AZURE_CLIENT_CERTIFICATE_PATH не загружен в регистрацию приложения или удалён. Загрузите его (только сертификат, никогда не ключ): App registrations → приложение → Certificates & secrets → Certificates → Upload certificate; его отпечаток должен совпадать с тем, что выводит `meetnow check`.
sign-in-federated-expired = Служба входа Microsoft (Entra ID) отклонила федеративный токен как просроченный (AADSTS700024). Файл из AZURE_FEDERATED_TOKEN_FILE больше не обновляется: в Kubernetes проверьте, что под по-прежнему монтирует проецируемый токен учётной записи службы (его добавляет веб-перехватчик workload identity), и перезапустите под.
sign-in-clock = Служба входа Microsoft (Entra ID) отклонила утверждение клиента: оно вне срока действия (AADSTS700024), часы этого хоста идут неверно. Синхронизируйте их (NTP, например `timedatectl set-ntp true`).
sign-in-federated-mismatch = Ни одни федеративные учётные данные приложения { $client } не подходят к токену из AZURE_FEDERATED_TOKEN_FILE (AADSTS{ $code }). В App registrations → приложение → Certificates & secrets → Federated credentials добавьте такие, у которых издатель — издатель токена (URL издателя OIDC вашего кластера: `az aks show -n CLUSTER -g GROUP --query oidcIssuerProfile.issuerUrl -o tsv`), субъект — system:serviceaccount:NAMESPACE:SERVICE-ACCOUNT, а аудитория — api://AzureADTokenExchange.
sign-in-assertion-other-app = Утверждение клиента называет другое приложение, а не AZURE_CLIENT_ID { $client } (AADSTS700021): укажите идентификатор клиента приложения, которому принадлежат сертификат или федеративные учётные данные.
sign-in-assertion-unreadable = Служба входа Microsoft (Entra ID) не смогла прочитать утверждение клиента как токен (AADSTS50027): в { $variable } должен быть JWT (для файла федеративного токена — токен, который туда записала ваша платформа).
sign-in-refused-code = Служба входа Microsoft (Entra ID) отклонила приложение (AADSTS{ $code }, { $error }). Проверьте AZURE_TENANT_ID, AZURE_CLIENT_ID и { $variable }; их проверяет `meetnow check`.
sign-in-refused = Служба входа Microsoft (Entra ID) отклонила приложение ({ $error }). Проверьте AZURE_TENANT_ID, AZURE_CLIENT_ID и { $variable }; их проверяет `meetnow check`.
sign-in-credential = Вход в Microsoft не удался ещё до начала: { $detail }.
sign-in-identity-refused = Конечная точка управляемого удостоверения отказалась выдать токен (HTTP { $status }: { $explanation }). Проверьте, что у этого хоста есть управляемое удостоверение (назначенное системой или пользователем, с AZURE_CLIENT_ID в качестве идентификатора клиента) и что у удостоверения есть роль приложения OnlineMeetings.ReadWrite.All.
sign-in-unavailable = Служба входа Microsoft (Entra ID) сейчас не отвечает, поэтому собрание не создано. Повторите через минуту.
sign-in-malformed = Служба входа Microsoft (Entra ID) прислала токен, который meetnow не может прочитать. Проверьте AZURE_AUTHORITY_HOST: это должен быть https://login.microsoftonline.com или аналог в вашем облаке.
