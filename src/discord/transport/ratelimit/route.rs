//! What a request is and what a 429 says: the bucket a request falls in (its route, with the major
//! parameter's value kept and other ids folded; interaction tokens left out of what is logged), and a 429's
//! wait, scope and whether it is a refusal with its own code rather than a window.

use std::time::Duration;

use axum::http::Method;

/// What a 429 said.
pub(super) struct RateLimited {
    pub(super) retry_after: Duration,
    pub(super) global: bool,
    /// `user`, `global` or `shared` (`X-RateLimit-Scope`).
    pub(super) scope: &'static str,
    /// The body carries an error code of its own (a rate limit's is 0 or absent).
    pub(super) refusal: bool,
}

impl RateLimited {
    pub(super) fn read(headers: &reqwest::header::HeaderMap, body: &[u8]) -> Self {
        #[derive(serde::Deserialize, Default)]
        struct Body {
            retry_after: Option<f64>,
            global: Option<bool>,
            code: Option<i64>,
        }
        let parsed: Body = serde_json::from_slice(body).unwrap_or_default();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
        let global = parsed.global.unwrap_or(false) || header("x-ratelimit-global").is_some_and(|v| v == "true");
        let seconds = parsed
            .retry_after
            .or_else(|| header("retry-after").and_then(|v| v.parse().ok()))
            .filter(|s: &f64| s.is_finite() && *s >= 0.0)
            .unwrap_or(1.0);
        let scope = match header("x-ratelimit-scope").as_deref() {
            Some("global") => "global",
            Some("shared") => "shared",
            _ if global => "global",
            _ => "user",
        };
        let refusal = parsed.code.is_some_and(|code| code != 0);
        Self { retry_after: Duration::from_secs_f64(seconds.min(3600.0)), global, scope, refusal }
    }
}

/// A request's bucket key: method and route, with the major parameter's value kept and other ids folded.
pub(super) struct RouteKey {
    pub(super) key: String,
    /// The key with interaction tokens left out, for the log.
    pub(super) label: String,
    pub(super) exempt_from_global: bool,
}

impl RouteKey {
    pub(super) fn of(method: &Method, path: &str) -> Self {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        // `/api/v10/...`: the route starts after the version.
        let start = segments.iter().position(|s| s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit()));
        let route = &segments[start.map_or(0, |i| i + 1)..];
        let mut key = vec![method.as_str().to_owned()];
        let mut label = key.clone();
        let mut keep_next = 0u8;
        for segment in route {
            let major = keep_next > 0;
            // Under webhooks and interactions the second kept segment is a token.
            let token = keep_next == 1
                && matches!(
                    key.get(key.len().saturating_sub(2)).map(String::as_str),
                    Some("webhooks" | "interactions")
                );
            keep_next = match *segment {
                "channels" | "guilds" => 1,
                // The application and the interaction token.
                "webhooks" => 2,
                // The interaction's id and token.
                "interactions" => 2,
                _ => keep_next.saturating_sub(1),
            };
            let id_like = segment.chars().all(|c| c.is_ascii_digit()) && !segment.is_empty();
            let kept = if major || !id_like { (*segment).to_owned() } else { ":id".to_owned() };
            label.push(if token { "{token}".to_owned() } else { kept.clone() });
            key.push(kept);
        }
        let exempt_from_global = matches!(route.first(), Some(&"interactions") | Some(&"webhooks"));
        Self { key: key.join(" "), label: label.join(" "), exempt_from_global }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_per_route_and_major_parameter() {
        let key = |method: Method, path: &str| RouteKey::of(&method, path).key;
        assert_eq!(key(Method::GET, "/api/v10/channels/1/pins"), "GET channels 1 pins");
        assert_eq!(key(Method::PUT, "/api/v10/channels/1/pins/77"), "PUT channels 1 pins :id");
        assert_eq!(key(Method::PUT, "/api/v10/channels/1/pins/78"), key(Method::PUT, "/api/v10/channels/1/pins/77"));
        assert_ne!(key(Method::PUT, "/api/v10/channels/2/pins/77"), key(Method::PUT, "/api/v10/channels/1/pins/77"));
        assert_eq!(
            key(Method::PATCH, "/api/v10/webhooks/9/tok/messages/@original"),
            "PATCH webhooks 9 tok messages @original"
        );
        assert!(RouteKey::of(&Method::POST, "/api/v10/interactions/5/tok/callback").exempt_from_global);
        let callback = RouteKey::of(&Method::POST, "/api/v10/interactions/5/secret-token/callback");
        assert_eq!(callback.label, "POST interactions 5 {token} callback", "no token in the log");
        let edit = RouteKey::of(&Method::PATCH, "/api/v10/webhooks/9/secret-token/messages/@original");
        assert_eq!(edit.label, "PATCH webhooks 9 {token} messages @original");
        assert!(RouteKey::of(&Method::POST, "/api/v10/webhooks/9/tok").exempt_from_global);
        assert!(!RouteKey::of(&Method::GET, "/api/v10/channels/1/pins").exempt_from_global);
    }

    #[test]
    fn a_429_says_how_long_and_for_whom() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "3".parse().unwrap());
        let bucket = RateLimited::read(
            &headers,
            br#"{"message":"You are being rate limited.","retry_after":0.25,"global":false}"#,
        );
        assert_eq!((bucket.retry_after, bucket.global, bucket.scope), (Duration::from_millis(250), false, "user"));
        headers.insert("x-ratelimit-global", "true".parse().unwrap());
        let global = RateLimited::read(&headers, b"not json");
        assert_eq!((global.retry_after, global.global, global.scope), (Duration::from_secs(3), true, "global"));
        headers.remove("x-ratelimit-global");
        headers.insert("x-ratelimit-scope", "shared".parse().unwrap());
        assert_eq!(RateLimited::read(&headers, br#"{"retry_after":-1}"#).scope, "shared");
        let absurd = RateLimited::read(&reqwest::header::HeaderMap::new(), br#"{"retry_after":1e300}"#);
        assert_eq!(absurd.retry_after, Duration::from_secs(3600), "clamped, never a panic");
    }
}
