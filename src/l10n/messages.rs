//! Every message id meetnow uses, as a constant: a misspelt id does not compile, and a test checks the list
//! is exactly `locales/en.ftl`'s messages, so a message added to the file or dropped from the code is noticed.
//! The constants follow the file's sections and order.

/// The id of one message in `locales/*.ftl`. Only the constants below exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Msg(&'static str);

macro_rules! messages {
    ($($name:ident = $id:literal,)+) => {
        #[allow(missing_docs)]
        impl Msg {
            $(pub const $name: Msg = Msg($id);)+

            /// Every message, in `en.ftl`'s order.
            pub const ALL: &'static [Msg] = &[$(Msg::$name),+];
        }
    };
}

impl Msg {
    /// The id as it is written in the `.ftl` files.
    pub fn id(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

messages! {
    // /meetnow's registration (Discord shows these in the command picker)
    COMMAND_DESCRIPTION = "command-description",
    OPTION_SUBJECT_DESCRIPTION = "option-subject-description",
    OPTION_NEW_DESCRIPTION = "option-new-description",
    OPTION_RING_DESCRIPTION = "option-ring-description",
    // The announcement
    ANNOUNCE_NEW_STANDING = "announce-new-standing",
    ANNOUNCE_NEW_SEPARATE = "announce-new-separate",
    ANNOUNCE_STANDING = "announce-standing",
    ANNOUNCE_STANDING_CREATED = "announce-standing-created",
    ANNOUNCE_CLICK_TITLE = "announce-click-title",
    NO_DIAL_IN = "no-dial-in",
    FIELD_DIAL_IN = "field-dial-in",
    FIELD_CONFERENCE_ID = "field-conference-id",
    FIELD_JOIN_BY_ID = "field-join-by-id",
    JOIN_BY_ID = "join-by-id",
    JOIN_BY_ID_PASSCODE = "join-by-id-passcode",
    NUMBER_TOLL = "number-toll",
    NUMBER_TOLL_FREE = "number-toll-free",
    DIAL_LINE = "dial-line",
    DIAL_LINE_ONE_TAP = "dial-line-one-tap",
    DIAL_MORE = "dial-more",
    BUTTON_JOIN = "button-join",
    BUTTON_LOCAL_NUMBERS = "button-local-numbers",
    BUTTON_ATTENDANCE = "button-attendance",
    DEFAULT_SUBJECT = "default-subject",
    DEFAULT_SUBJECT_UNNAMED = "default-subject-unnamed",
    LIVE_POINTER = "live-pointer",
    // Live status (the announcement's second part)
    LIVE_TITLE = "live-title",
    LIVE_TITLE_EMPTY = "live-title-empty",
    LIVE_STARTED = "live-started",
    LIVE_NOBODY = "live-nobody",
    LIVE_ON_CALL = "live-on-call",
    LIVE_LOBBY = "live-lobby",
    LIST_SEPARATOR = "list-separator",
    LIVE_NAMES_MORE = "live-names-more",
    NO_DISPLAY_NAME = "no-display-name",
    ENDED_TITLE = "ended-title",
    ENDED_AT = "ended-at",
    ENDED_AT_AFTER = "ended-at-after",
    ENDED_JOINED = "ended-joined",
    ENDED_OPEN = "ended-open",
    DURATION_UNDER_A_MINUTE = "duration-under-a-minute",
    DURATION_MINUTES = "duration-minutes",
    DURATION_HOURS = "duration-hours",
    DURATION_HOURS_MINUTES = "duration-hours-minutes",
    // Attendance (private to whoever clicked)
    ATTENDANCE_TITLE = "attendance-title",
    ATTENDANCE_NONE = "attendance-none",
    ATTENDANCE_CALL = "attendance-call",
    ATTENDANCE_CALL_JOINED = "attendance-call-joined",
    ATTENDANCE_MORE = "attendance-more",
    ATTENDANCE_NO_BRIDGE = "attendance-no-bridge",
    ROLE_ORGANIZER = "role-organizer",
    ROLE_PRESENTER = "role-presenter",
    ROLE_ATTENDEE = "role-attendee",
    ROLE_PRODUCER = "role-producer",
    ROLE_COORGANIZER = "role-coorganizer",
    SECONDS = "seconds",
    HOURS_MINUTES_PADDED = "hours-minutes-padded",
    // Private answers: who may use it, the options, restarts
    REFUSED_NO_SERVER = "refused-no-server",
    REFUSED_OTHER_SERVER = "refused-other-server",
    REFUSED_NO_ROLE = "refused-no-role",
    SUBJECT_TOO_LONG = "subject-too-long",
    RESTARTING = "restarting",
    // Ringing someone into the bridge (/meetnow ring:)
    RING_RINGING = "ring-ringing",
    RING_RINGING_DETAIL = "ring-ringing-detail",
    RING_JOINED = "ring-joined",
    RING_DECLINED = "ring-declined",
    RING_NO_ANSWER = "ring-no-answer",
    RING_UNREACHABLE = "ring-unreachable",
    RING_UNREACHABLE_DETAIL = "ring-unreachable-detail",
    RING_FAILED = "ring-failed",
    RING_ERROR_FORBIDDEN = "ring-error-forbidden",
    RING_ERROR_NOT_JOINED = "ring-error-not-joined",
    RING_ERROR_REFUSED = "ring-error-refused",
    RING_OFF = "ring-off",
    RING_NOT_FOUND = "ring-not-found",
    RING_REPEAT = "ring-repeat",
    RING_BUSY = "ring-busy",
    RING_DIRECTORY_FORBIDDEN = "ring-directory-forbidden",
    // Microsoft's refusals, with their fixes (also printed in English by `meetnow create` and `meetnow check`)
    ERROR_ACCESS_POLICY = "error-access-policy",
    ERROR_FORBIDDEN = "error-forbidden",
    ERROR_ORGANIZER_NOT_FOUND = "error-organizer-not-found",
    ERROR_UNAUTHORIZED = "error-unauthorized",
    ERROR_THROTTLED = "error-throttled",
    ERROR_UNAVAILABLE = "error-unavailable",
    ERROR_REFUSED = "error-refused",
    ERROR_ATTENDANCE_PERMISSION = "error-attendance-permission",
    ERROR_MEETING_NOT_FOUND = "error-meeting-not-found",
    ERROR_UNEXPECTED_RESPONSE = "error-unexpected-response",
    ERROR_UNTRUSTED_CERTIFICATE = "error-untrusted-certificate",
    SIGN_IN_SECRET_INVALID = "sign-in-secret-invalid",
    SIGN_IN_SECRET_EXPIRED = "sign-in-secret-expired",
    SIGN_IN_NO_APP = "sign-in-no-app",
    SIGN_IN_NO_TENANT = "sign-in-no-tenant",
    SIGN_IN_INVALID_TENANT = "sign-in-invalid-tenant",
    SIGN_IN_SCOPE = "sign-in-scope",
    SIGN_IN_CERTIFICATE_UNKNOWN = "sign-in-certificate-unknown",
    SIGN_IN_FEDERATED_EXPIRED = "sign-in-federated-expired",
    SIGN_IN_CLOCK = "sign-in-clock",
    SIGN_IN_FEDERATED_MISMATCH = "sign-in-federated-mismatch",
    SIGN_IN_ASSERTION_OTHER_APP = "sign-in-assertion-other-app",
    SIGN_IN_ASSERTION_UNREADABLE = "sign-in-assertion-unreadable",
    SIGN_IN_REFUSED_CODE = "sign-in-refused-code",
    SIGN_IN_REFUSED = "sign-in-refused",
    SIGN_IN_CREDENTIAL = "sign-in-credential",
    SIGN_IN_IDENTITY_REFUSED = "sign-in-identity-refused",
    SIGN_IN_UNAVAILABLE = "sign-in-unavailable",
    SIGN_IN_MALFORMED = "sign-in-malformed",
}
