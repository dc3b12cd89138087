//! The answers API Gateway itself gives (not the function's): status, body and headers
//! written the way each API type writes them, so clients that parse `message` see AWS's text.
//!
//! HTTP APIs answer `{"message":"Not Found"}` for an unknown route; REST APIs answer 403
//! `{"message":"Missing Authentication Token"}` (SAM CLI answers 403 for both). A function
//! error or a response API Gateway cannot read is a REST API's 502 `{"message": "Internal
//! server error"}` ("Handling Lambda errors with an API Gateway API") and an HTTP API's 500
//! `{"message":"Internal Server Error"}` ("Troubleshooting issues with HTTP API Lambda
//! integrations").

use ssam_template::ApiType;

/// Why the gateway answered instead of the function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayError {
    /// No route matches.
    NoRoute,
    /// The function failed, or returned something that is not a proxy response.
    BadGateway,
    /// The integration did not answer within the integration timeout.
    IntegrationTimeout,
    /// The request body is over API Gateway's 10 MB payload quota.
    PayloadTooLarge,
    /// The event is over Lambda's 6 MB request limit (the body grows by a third when
    /// base64-encoded); `reason` says by how much.
    EventTooLarge { reason: String },
    /// Lambda throttled the invocation (the function's ReservedConcurrentExecutions are in
    /// use). A Lambda proxy integration cannot pass Lambda's 429 on: API Gateway answers 500
    /// (AWS re:Post "API Gateway proxy integration does not forward Lambda throttling";
    /// the integration failure maps to the INTEGRATION_FAILURE gateway response).
    LambdaThrottled,
    /// A Lambda authorizer denied the request (explicit Deny, or `isAuthorized: false`).
    Forbidden,
    /// The identity source is missing, or the authorizer said `Unauthorized`.
    Unauthorized,
    /// An HTTP API's JWT authorizer refused the token: 401 `{"message":"Unauthorized"}`
    /// with a `www-authenticate: Bearer scope="" error="invalid_token" error_description=...`
    /// header ("Troubleshooting issues with HTTP API JWT authorizers"); the description.
    InvalidToken(String),
    /// The authorizer failed or returned something unreadable.
    AuthorizerFailure,
    /// An `AWS_IAM` route got a request without a SigV4 signature.
    MissingAuthenticationToken,
    /// An `AWS_IAM` route got a request signed with an access key that is not accepted.
    InvalidSecurityToken,
    /// An `AWS_IAM` route got a request whose signature does not verify, or whose time is
    /// more than 5 minutes away: AWS's message ("How do I troubleshoot signature mismatch
    /// errors when making SigV4 signed requests with IAM authentication to API Gateway?").
    InvalidSignature(String),
}

/// A ready-to-send gateway answer.
#[derive(Clone, Debug)]
pub struct ErrorAnswer {
    pub status: u16,
    pub body: String,
    /// REST APIs name the gateway response in `x-amzn-ErrorType`.
    pub error_type: Option<&'static str>,
    /// The `www-authenticate` challenge of a 401, where API Gateway sends one.
    pub www_authenticate: Option<String>,
}

impl GatewayError {
    pub fn answer(&self, api_type: ApiType) -> ErrorAnswer {
        let rest = api_type == ApiType::Rest;
        let (status, body, error_type): (u16, String, Option<&'static str>) = match self {
            GatewayError::NoRoute if rest => (
                403,
                r#"{"message":"Missing Authentication Token"}"#.into(),
                Some("MissingAuthenticationTokenException"),
            ),
            GatewayError::NoRoute => (404, r#"{"message":"Not Found"}"#.into(), None),
            GatewayError::BadGateway if rest => (
                502,
                r#"{"message":"Internal server error"}"#.into(),
                Some("InternalServerErrorException"),
            ),
            GatewayError::BadGateway => {
                (500, r#"{"message":"Internal Server Error"}"#.into(), None)
            }
            GatewayError::IntegrationTimeout if rest => (
                504,
                r#"{"message": "Endpoint request timed out"}"#.into(),
                Some("InternalServerErrorException"),
            ),
            GatewayError::IntegrationTimeout => {
                (503, r#"{"message":"Service Unavailable"}"#.into(), None)
            }
            GatewayError::PayloadTooLarge if rest => (
                413,
                r#"{"message":"Request Too Long"}"#.into(),
                Some("RequestTooLargeException"),
            ),
            GatewayError::PayloadTooLarge => {
                (413, r#"{"message":"Request Entity Too Large"}"#.into(), None)
            }
            GatewayError::EventTooLarge { reason } => {
                // AWS's message, plus the reason (clients that read `message` are unaffected).
                #[derive(serde::Serialize)]
                struct Body<'a> {
                    message: &'static str,
                    reason: &'a str,
                }
                let body = serde_json::to_string(&Body {
                    message: "Request Entity Too Large",
                    reason,
                })
                .unwrap_or_else(|_| r#"{"message":"Request Entity Too Large"}"#.into());
                (413, body, rest.then_some("RequestTooLargeException"))
            }
            GatewayError::LambdaThrottled if rest => (
                500,
                r#"{"message": "Internal server error"}"#.into(),
                Some("InternalServerErrorException"),
            ),
            GatewayError::LambdaThrottled => {
                (500, r#"{"message":"Internal Server Error"}"#.into(), None)
            }
            GatewayError::Forbidden if rest => (
                403,
                r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#
                    .into(),
                Some("AccessDeniedException"),
            ),
            GatewayError::Forbidden => (403, r#"{"message":"Forbidden"}"#.into(), None),
            GatewayError::Unauthorized | GatewayError::InvalidToken(_) => (
                401,
                r#"{"message":"Unauthorized"}"#.into(),
                rest.then_some("UnauthorizedException"),
            ),
            GatewayError::AuthorizerFailure if rest => (
                500,
                r#"{"message": null}"#.into(),
                Some("AuthorizerConfigurationException"),
            ),
            GatewayError::AuthorizerFailure => {
                (500, r#"{"message":"Internal Server Error"}"#.into(), None)
            }
            GatewayError::MissingAuthenticationToken if rest => (
                403,
                r#"{"message":"Missing Authentication Token"}"#.into(),
                Some("MissingAuthenticationTokenException"),
            ),
            GatewayError::InvalidSecurityToken if rest => (
                403,
                r#"{"message":"The security token included in the request is invalid."}"#.into(),
                Some("UnrecognizedClientException"),
            ),
            GatewayError::InvalidSignature(message) => {
                #[derive(serde::Serialize)]
                struct Body<'a> {
                    message: &'a str,
                }
                let body = serde_json::to_string(&Body { message })
                    .unwrap_or_else(|_| r#"{"message":"Forbidden"}"#.into());
                (403, body, rest.then_some("InvalidSignatureException"))
            }
            GatewayError::MissingAuthenticationToken | GatewayError::InvalidSecurityToken => {
                (403, r#"{"message":"Forbidden"}"#.into(), None)
            }
        };
        let www_authenticate = match self {
            // The description is quoted; a quote or backslash in it is escaped (RFC 7230
            // quoted-string).
            GatewayError::InvalidToken(description) => Some(format!(
                r#"Bearer scope="" error="invalid_token" error_description="{}""#,
                description.replace('\\', "\\\\").replace('"', "\\\"")
            )),
            _ => None,
        };
        ErrorAnswer {
            status,
            body,
            error_type,
            www_authenticate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_route_is_404_for_http_and_403_for_rest() {
        let h = GatewayError::NoRoute.answer(ApiType::Http);
        assert_eq!(
            (h.status, h.body.as_str()),
            (404, r#"{"message":"Not Found"}"#)
        );
        let r = GatewayError::NoRoute.answer(ApiType::Rest);
        assert_eq!(
            (r.status, r.body.as_str()),
            (403, r#"{"message":"Missing Authentication Token"}"#)
        );
    }

    #[test]
    fn timeout_is_503_for_http_and_504_for_rest() {
        assert_eq!(
            GatewayError::IntegrationTimeout
                .answer(ApiType::Http)
                .status,
            503
        );
        let r = GatewayError::IntegrationTimeout.answer(ApiType::Rest);
        assert_eq!(
            (r.status, r.body.as_str()),
            (504, r#"{"message": "Endpoint request timed out"}"#)
        );
    }

    #[test]
    fn event_too_large_keeps_aws_message_and_adds_reason() {
        let a = GatewayError::EventTooLarge {
            reason: "too big".into(),
        }
        .answer(ApiType::Http);
        assert_eq!(a.status, 413);
        assert_eq!(
            a.body,
            r#"{"message":"Request Entity Too Large","reason":"too big"}"#
        );
    }
}
