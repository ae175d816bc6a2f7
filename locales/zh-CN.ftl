# meetnow 在 Discord 中的消息，简体中文。标识符和参数与 en.ftl 相同（其注释说明每个参数的含义）。命令、变量名、
# 门户路径和 PowerShell 保持原样：它们必须与管理员输入和看到的内容一致。Teams 术语沿用 Teams 简体中文界面的
# 译法；称呼用“你”；全角标点，列表用“、”，省略号用“……”（见 locales/README.md）。

## /meetnow 的注册

command-description = 开始或重新加入此频道的 Microsoft Teams 会议桥
option-subject-description = 会议主题（默认：#频道 会议桥）
option-new-description = 开始一个单独的会议，而不是频道的常设会议桥
option-ring-description = 呼叫某人加入会议桥：输入其姓名或工作邮箱

## 公告

announce-new-standing = 新会议桥：此频道的常设 Teams 会议。
announce-new-separate = 新的单独 Teams 会议。
announce-standing = 此频道的常设会议桥。
announce-standing-created = 此频道的常设会议桥，{ $since }创建。
announce-click-title = 点击标题即可加入会议。
no-dial-in = 无电话拨入：组织者没有 Teams 音频会议许可证。请通过链接加入。
field-dial-in = 电话拨入
field-conference-id = 电话会议 ID
field-join-by-id = 通过 ID 加入
join-by-id = 会议 ID { $id }
join-by-id-passcode = 会议 ID { $id } · 密码 { $passcode }
number-toll = 收费电话
number-toll-free = 免费电话
dial-line = { $kind }：{ $number }
dial-line-one-tap = { $kind }：{ $number } · 一键拨号 { $tap }
dial-more = ……另有 { $count } 个号码，见“本地号码”页面
button-join = 加入会议
button-local-numbers = 本地号码
button-attendance = 出席情况
default-subject = #{ $channel } 会议桥
default-subject-unnamed = 事件会议桥
live-pointer = 此会议桥的实时状态：见其置顶公告。

## 实时状态

live-title = 通话进行中：{ $count } 人
live-title-empty = 通话进行中
live-started = { $time } 开始（{ $ago }）。
live-nobody = 目前没有人在通话中。
live-on-call = **通话中（{ $count } 人）：**{ $names }
live-lobby = **在大厅中（{ $count } 人）：**{ $names }
list-separator = 、
live-names-more = { $names }，另有 { $count } 人
no-display-name = （无显示名称）
ended-title = 通话已结束
ended-at = { $time } 结束（{ $ago }）。
ended-at-after = { $time } 结束（{ $ago }），持续 { $duration }。
ended-joined = { $count ->
    [0] 无人加入。
   *[other] 共 { $count } 人加入。
}
ended-open = 会议桥仍然开放：点击“加入会议”即可开始下一次通话。
duration-under-a-minute = 不到一分钟
duration-minutes = { $minutes } 分钟
duration-hours = { $hours } 小时
duration-hours-minutes = { $hours } 小时 { $minutes } 分钟

## 出席情况（仅点击者可见）

attendance-title = 谁参加了会议桥
attendance-none = 此会议桥上还没有结束的通话。Teams 会在通话结束几分钟后发布出席情况。
attendance-call = **通话 { $number }** · { $start } – { $end }
attendance-call-joined = **通话 { $number }** · { $start } – { $end } · { $count } 人加入
attendance-more = ……另有 { $count } 人
attendance-no-bridge = 此消息没有公告会议桥，因此没有可显示的出席情况。
role-organizer = 组织者
role-presenter = 演示者
role-attendee = 与会者
role-producer = 制作者
role-coorganizer = 共同组织者
seconds = { $seconds } 秒
hours-minutes-padded = { $hours } 小时 { $minutes } 分钟

## 私人回复：谁可以使用、选项、重启

refused-no-server = meetnow 只能在服务器频道中使用，不能在私信中使用。
refused-other-server = 此服务器未配置 meetnow，因此无法在这里开始会议桥。请联系运行 meetnow 的管理员，将此服务器加入 MEETNOW_ALLOWED_GUILD_IDS。
refused-no-role = 你需要拥有此服务器允许的角色之一才能在这里使用 meetnow。请联系服务器管理员。
subject-too-long = 主题长度为 { $length } 个字符；请不要超过 { $max } 个。
restarting = meetnow 正在重启。请几秒钟后再运行 /meetnow。

## 呼叫某人加入会议桥（/meetnow ring:）

ring-ringing = 📞 正在呼叫 { $name }…
ring-ringing-detail = 对方的 Teams 正在响铃。对方应答后，此行会更新。
ring-joined = ✅ { $name } 已加入会议桥
ring-declined = { $name } 拒绝了呼叫
ring-no-answer = { $name } 在 { $waited } 内未应答
ring-unreachable = 无法在 Teams 中呼叫 { $name }
ring-unreachable-detail = Teams 找不到可以为其响铃的帐户：对方可能没有 Teams 许可证，或不属于你的组织。请通过其他方式联系对方。
ring-failed = 无法呼叫 { $name }
ring-error-forbidden = Teams 拒绝了机器人的呼叫 (403)。应用需要经管理员同意的应用程序权限 Calls.JoinGroupCall.All 和 Calls.InitiateGroupCall.All，其 Azure Bot 需要启用了通话的 Microsoft Teams 频道，以及 `meetnow check` 输出的通话 Webhook。
ring-error-not-joined = 机器人未能及时加入会议桥的通话，因此没有呼叫任何人。请重试；如果问题持续，请检查 Azure Bot 的通话 Webhook（`meetnow check` 会输出它）。
ring-error-refused = Teams 未能发起呼叫（代码 { $code }）：{ $message }
ring-off = 此机器人未开启呼叫功能，因此没有呼叫任何人。不带 `ring:` 的 /meetnow 仍会给你会议桥。运行 meetnow 的管理员可通过 MEETNOW_RING=true 开启（README：Ring them in）。
ring-not-found = 你的组织目录中没有与 { $query } 匹配的人，因此没有呼叫任何人。请从建议中选择姓名，或输入其工作邮箱地址。
ring-repeat = { $name } 在 { $ago }已被呼叫到此会议桥，因此未再次呼叫。请等一分钟后再呼叫。
ring-busy = meetnow 当前同时呼叫的人数已达上限，因此没有呼叫任何人。请一分钟后重试。
ring-directory-forbidden = 目录拒绝了查找此人的请求 (403)：应用需要经管理员同意的应用程序权限 User.ReadBasic.All（Microsoft Entra 管理中心 → 应用注册 → 该应用 → API 权限）。`meetnow check` 会显示它拥有哪些权限。

## Microsoft 的拒绝及修复方法

error-access-policy = Teams 拒绝创建会议：没有应用程序访问策略（application access policy）允许此应用为组织者创建会议。Teams 管理员必须在 PowerShell 中运行一次以下命令（先运行 `Import-Module MicrosoftTeams; Connect-MicrosoftTeams`）：
    `New-CsApplicationAccessPolicy -Identity MeetNow -AppIds "{ $client }" -Description "Discord /meetnow"`
    `Grant-CsApplicationAccessPolicy -PolicyName MeetNow -Identity "{ $organizer }"`
    策略最多可能需要 30 分钟才能生效。
error-forbidden = Teams 拒绝创建会议（403）。通常是应用缺少应用程序权限 OnlineMeetings.ReadWrite.All 的管理员同意（Entra admin center → App registrations → 该应用 → API permissions → 添加该权限 → Grant admin consent），或组织者是来宾或没有 Teams 许可证。`meetnow check` 会显示具体原因。
error-organizer-not-found = Graph 在此租户中没有用户 { $organizer }。MEETNOW_ORGANIZER_ID 必须是应用所在租户中一位有 Teams 许可证的用户的 Entra 对象 ID（Entra admin center → Users → Object ID）。
error-unauthorized = Graph 不接受应用的令牌，即使是新令牌。请检查 AZURE_TENANT_ID 是否为授予同意的租户，以及 GRAPH_ENDPOINT 与 AZURE_AUTHORITY_HOST 是否属于同一云。
error-throttled = Teams 目前正在限制会议请求。请在 { $seconds } 秒后重试。
error-unavailable = Microsoft Teams（Graph）目前没有响应，因此未创建会议。请一分钟后重试；也可以在终端中使用 `meetnow create`。
error-refused = Graph 拒绝了请求（HTTP { $status }，{ $code }）：{ $message }。请运行 `meetnow check` 检查配置。
error-attendance-permission = 读取出席情况需要应用程序权限 { $role }。在 Entra admin center → App registrations → 该应用 → API permissions 中添加 Microsoft Graph → Application permissions → { $role }，然后点击 Grant admin consent（现有的应用程序访问策略已涵盖它）。`meetnow check` 会显示令牌中是否包含该权限。
error-meeting-not-found = 此会议桥已不再是组织者的会议（已删除，或由其他组织者创建），因此无法读取其出席情况。
error-unexpected-response = Microsoft Graph 返回了 meetnow 无法读取的响应（HTTP { $status }），因此没有发布链接。请稍后重试。
error-untrusted-certificate = { $host } 的 TLS 证书不是由此主机信任的证书颁发机构签发的。如果位于检查 TLS 的公司代理之后，请将其 CA 证书（PEM）放入文件并让 SSL_CERT_FILE 指向它，或将其添加到系统证书存储中（例如 /usr/local/share/ca-certificates 和 `update-ca-certificates`）。
sign-in-secret-invalid = Microsoft 登录服务（Entra ID）拒绝了客户端密码（AADSTS7000215）。AZURE_CLIENT_SECRET 必须是密码的值（Value），而不是其 Secret ID：在 App registrations → Certificates & secrets 中创建新的客户端密码并复制其 Value。
sign-in-secret-expired = 应用的客户端密码已过期（AADSTS7000222）。请在 App registrations → Certificates & secrets 中创建新密码，并将其 Value 填入 AZURE_CLIENT_SECRET。
sign-in-no-app = Microsoft 登录服务（Entra ID）在租户 { $tenant } 中找不到应用 { $client }（AADSTS700016）。请检查 AZURE_CLIENT_ID（Application (client) ID），以及 AZURE_TENANT_ID 是否为该应用所属的租户。
sign-in-no-tenant = Microsoft 登录服务（Entra ID）找不到租户 { $tenant }（AADSTS90002）。请检查 AZURE_TENANT_ID；对于政府云，还要检查 AZURE_AUTHORITY_HOST（https://login.microsoftonline.us）。
sign-in-invalid-tenant = AZURE_TENANT_ID { $tenant } 不是有效的租户（AADSTS900023）：请使用 Directory (tenant) ID 的 GUID 或租户的域名。
sign-in-scope = Microsoft 登录服务（Entra ID）拒绝了作用域（AADSTS70011）：GRAPH_ENDPOINT 必须是你所在云的 Graph 根地址，例如 https://graph.microsoft.com。
sign-in-certificate-unknown = Microsoft 登录服务（Entra ID）无法用应用 { $client } 的证书验证客户端断言（AADSTS700027）：AZURE_CLIENT_CERTIFICATE_PATH 中的证书未上传到应用注册，或已被删除。请上传它（只上传证书，切勿上传密钥）：App registrations → 该应用 → Certificates & secrets → Certificates → Upload certificate；其指纹必须与 `meetnow check` 打印的一致。
sign-in-federated-expired = Microsoft 登录服务（Entra ID）以过期为由拒绝了联合令牌（AADSTS700024）。AZURE_FEDERATED_TOKEN_FILE 中的文件不再被刷新：在 Kubernetes 上，请检查 Pod 是否仍挂载投射的服务帐户令牌（由工作负载标识 webhook 添加），并重启该 Pod。
sign-in-clock = Microsoft 登录服务（Entra ID）以不在有效时间内为由拒绝了客户端断言（AADSTS700024）：此主机的时钟不准。请同步时钟（NTP，例如 `timedatectl set-ntp true`）。
sign-in-federated-mismatch = 应用 { $client } 没有与 AZURE_FEDERATED_TOKEN_FILE 中的令牌匹配的联合凭据（AADSTS{ $code }）。在 App registrations → 该应用 → Certificates & secrets → Federated credentials 中添加一个：颁发者为令牌的颁发者（集群的 OIDC 颁发者 URL：`az aks show -n CLUSTER -g GROUP --query oidcIssuerProfile.issuerUrl -o tsv`），主体为 system:serviceaccount:NAMESPACE:SERVICE-ACCOUNT，受众为 api://AzureADTokenExchange。
sign-in-assertion-other-app = 客户端断言指向的应用不是 AZURE_CLIENT_ID { $client }（AADSTS700021）：请使用证书或联合凭据所属应用的客户端 ID。
sign-in-assertion-unreadable = Microsoft 登录服务（Entra ID）无法将客户端断言读取为令牌（AADSTS50027）：{ $variable } 必须包含 JWT（对于联合令牌文件，即平台写入其中的令牌）。
sign-in-refused-code = Microsoft 登录服务（Entra ID）拒绝了该应用（AADSTS{ $code }，{ $error }）。请检查 AZURE_TENANT_ID、AZURE_CLIENT_ID 和 { $variable }；`meetnow check` 会测试它们。
sign-in-refused = Microsoft 登录服务（Entra ID）拒绝了该应用（{ $error }）。请检查 AZURE_TENANT_ID、AZURE_CLIENT_ID 和 { $variable }；`meetnow check` 会测试它们。
sign-in-credential = 登录 Microsoft 在开始之前就失败了：{ $detail }。
sign-in-identity-refused = 托管标识终结点拒绝提供令牌（HTTP { $status }：{ $explanation }）。请检查此主机是否有托管标识（系统分配的，或用户分配且客户端 ID 为 AZURE_CLIENT_ID 的），以及该标识是否具有 OnlineMeetings.ReadWrite.All 应用角色。
sign-in-unavailable = Microsoft 登录服务（Entra ID）目前没有响应，因此未创建会议。请一分钟后重试。
sign-in-malformed = Microsoft 登录服务（Entra ID）返回了 meetnow 无法读取的令牌。请检查 AZURE_AUTHORITY_HOST；它应为 https://login.microsoftonline.com 或你所在云的对应地址。
