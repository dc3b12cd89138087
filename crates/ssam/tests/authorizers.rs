//! Authorizers declared every way a template can (issue #13): `AWS::ApiGateway::Authorizer`,
//! `AWS::ApiGatewayV2::Authorizer`, OpenAPI `securityDefinitions` /
//! `components.securitySchemes`, JWT and Cognito user pools, `AWS_IAM`. Each test first
//! checks that the route REJECTS the request without credentials, then that the right
//! credentials reach the function. The real binary, curl as the client, real Python
//! functions; JWTs are RS256 tokens made by PyJWT with a key made for the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

struct StartApi {
    server: ssam_testkit::Server,
    base: String,
}

impl StartApi {
    fn start(template: &Path, extra: &[&str]) -> StartApi {
        let args: Vec<&std::ffi::OsStr> = ["local", "start-api", "--port", "0", "-t"]
            .iter()
            .map(std::ffi::OsStr::new)
            .chain([template.as_os_str()])
            .chain(extra.iter().map(std::ffi::OsStr::new))
            .collect();
        let server = ssam_testkit::Server::start(&args, " * Running on ");
        let base = server
            .word_after(" * Running on ")
            .expect("the Running on line")
            .trim_end_matches('/')
            .to_string();
        StartApi { server, base }
    }

    /// `curl -s -i ARGS URL`: (status, body).
    fn get(&self, path: &str, args: &[&str]) -> (u16, String) {
        let out = Command::new("curl")
            .args(["-s", "-i", "--max-time", "30"])
            .args(args)
            .arg(format!("{}{path}", self.base))
            .output()
            .expect("run curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let status = text
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        (status, body)
    }

    fn with_header(&self, path: &str, header: &str) -> (u16, String) {
        self.get(path, &["-H", header])
    }

    /// The `www-authenticate` header of the answer to `path` with `header`, if any.
    fn www_authenticate(&self, path: &str, header: Option<&str>) -> Option<String> {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-i", "--max-time", "30"]);
        if let Some(h) = header {
            cmd.args(["-H", h]);
        }
        let out = cmd
            .arg(format!("{}{path}", self.base))
            .output()
            .expect("run curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let head = text
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string();
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("www-authenticate")
                .then(|| v.trim().to_string())
        })
    }
}

/// A project directory: `app.py` (the function, echoing its event) and `auth.py` (a Lambda
/// authorizer: token `allow` → Allow with a context, `deny` → Deny, else `Unauthorized`).
fn project(template: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.py"),
        "import json\ndef handler(event, context):\n    rc = event.get('requestContext', {})\n    return {'statusCode': 200, 'body': 'reached the function ' + json.dumps(rc.get('authorizer')) + ' operationName=' + str(rc.get('operationName'))}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/auth.py"),
        r#"
def token(event):
    if 'authorizationToken' in event:
        return event['authorizationToken']
    headers = {k.lower(): v for k, v in (event.get('headers') or {}).items()}
    return headers.get('authorization', '')

def handler(event, context):
    t = token(event)
    if event.get('version') == '2.0' and 'methodArn' not in event and 'routeArn' in event and event.get('type') == 'REQUEST' and t in ('allow', 'deny') and 'simple' in (event.get('rawPath') or ''):
        return {'isAuthorized': t == 'allow', 'context': {'who': 'simple'}}
    if t not in ('allow', 'deny'):
        raise Exception('Unauthorized')
    arn = event.get('methodArn') or event.get('routeArn')
    return {
        'principalId': 'user-1',
        'policyDocument': {'Version': '2012-10-17', 'Statement': [
            {'Action': 'execute-api:Invoke', 'Effect': 'Allow' if t == 'allow' else 'Deny', 'Resource': arn}]},
        'context': {'who': 'lambda-authorizer'},
    }
"#,
    )
    .unwrap();
    let path = dir.path().join("template.yaml");
    std::fs::write(&path, template).unwrap();
    (dir, path)
}

const FUNCTIONS: &str = r#"  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.11}
  AuthFn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src/, Handler: auth.handler, Runtime: python3.11}
"#;

fn template(resources: &str) -> String {
    format!("Transform: AWS::Serverless-2016-10-31\nResources:\n{FUNCTIONS}{resources}")
}

const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;

#[test]
fn cloudformation_rest_token_and_request_authorizers_reject_then_admit() {
    let (_dir, t) = project(&template(
        r#"  Raw:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: raw}
  TokRes:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Raw, ParentId: !GetAtt Raw.RootResourceId, PathPart: token}
  ReqRes:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Raw, ParentId: !GetAtt Raw.RootResourceId, PathPart: request}
  TokenAuth:
    Type: AWS::ApiGateway::Authorizer
    Properties:
      RestApiId: !Ref Raw
      Name: tok
      Type: TOKEN
      IdentitySource: method.request.header.Authorization
      AuthorizerUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthFn.Arn}/invocations
  RequestAuth:
    Type: AWS::ApiGateway::Authorizer
    Properties:
      RestApiId: !Ref Raw
      Name: req
      Type: REQUEST
      IdentitySource: method.request.header.Authorization
      AuthorizerResultTtlInSeconds: 0
      AuthorizerUri: !Join ["", ["arn:aws:apigateway:", !Ref "AWS::Region", ":lambda:path/2015-03-31/functions/", !GetAtt AuthFn.Arn, "/invocations"]]
  TokGet:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Raw
      ResourceId: !Ref TokRes
      HttpMethod: GET
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref TokenAuth
      Integration: {Type: AWS_PROXY, IntegrationHttpMethod: POST, Uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
  ReqGet:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Raw
      ResourceId: !Ref ReqRes
      HttpMethod: GET
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref RequestAuth
      Integration: {Type: AWS_PROXY, IntegrationHttpMethod: POST, Uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
"#,
    ));
    let api = StartApi::start(&t, &[]);
    for path in ["/token", "/request"] {
        // "Use API Gateway Lambda authorizers": no identity source is a 401 without a call.
        assert_eq!(
            api.get(path, &[]),
            (401, UNAUTHORIZED.to_string()),
            "{path}"
        );
        let (status, body) = api.with_header(path, "Authorization: nonsense");
        assert_eq!((status, body.as_str()), (401, UNAUTHORIZED), "{path}");
        let (status, body) = api.with_header(path, "Authorization: deny");
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("explicit deny"), "{body}");
        let (status, body) = api.with_header(path, "Authorization: allow");
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains(r#""who": "lambda-authorizer""#), "{body}");
        assert!(body.contains(r#""principalId": "user-1""#), "{body}");
    }
}

/// A TOKEN authorizer's `IdentityValidationExpression` (SAM `Identity.ValidationExpression`,
/// `AWS::ApiGateway::Authorizer`, OpenAPI `identityValidationExpression`): "Otherwise, it will
/// return a 401 Unauthorized response without calling the Lambda function" (API Gateway API
/// Reference, Authorizer). A token that does not match is refused and no function runs; a
/// matching one reaches the authorizer, which still decides.
#[test]
fn token_not_matching_identity_validation_expression_is_401_without_invoking_the_authorizer() {
    let (_dir, t) = project(&template(
        r#"  Sam:
    Type: AWS::Serverless::Api
    Properties:
      StageName: sam
      Auth:
        DefaultAuthorizer: Tok
        Authorizers:
          Tok:
            FunctionArn: !GetAtt AuthFn.Arn
            Identity: {ReauthorizeEvery: 0, ValidationExpression: "allow|deny"}
  Raw:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: raw}
  TokRes:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Raw, ParentId: !GetAtt Raw.RootResourceId, PathPart: token}
  TokenAuth:
    Type: AWS::ApiGateway::Authorizer
    Properties:
      RestApiId: !Ref Raw
      Name: tok
      Type: TOKEN
      IdentitySource: method.request.header.Authorization
      IdentityValidationExpression: "^(allow|deny)$"
      AuthorizerResultTtlInSeconds: 0
      AuthorizerUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthFn.Arn}/invocations
  TokGet:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Raw
      ResourceId: !Ref TokRes
      HttpMethod: GET
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref TokenAuth
      Integration: {Type: AWS_PROXY, IntegrationHttpMethod: POST, Uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
  Fn2:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
      Events:
        E: {Type: Api, Properties: {RestApiId: !Ref Sam, Path: /sam, Method: GET}}
"#,
    ));
    let api = StartApi::start(&t, &[]);
    let starts = |api: &StartApi| {
        api.server
            .lines()
            .iter()
            .filter(|l| l.contains("START RequestId"))
            .count()
    };
    for path in ["/sam/sam", "/token"] {
        let before = starts(&api);
        // "allow-me" contains "allow": the expression must match the whole token.
        for token in ["nonsense", "allow-me"] {
            let (status, body) = api.with_header(path, &format!("Authorization: {token}"));
            assert_eq!(
                (status, body.as_str()),
                (401, UNAUTHORIZED),
                "{path} {token}"
            );
        }
        assert_eq!(
            starts(&api),
            before,
            "{path}: the authorizer was invoked: {:?}",
            api.server.lines()
        );
        let (status, body) = api.with_header(path, "Authorization: deny");
        assert_eq!(status, 403, "{path}: {body}");
        let (status, body) = api.with_header(path, "Authorization: allow");
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains(r#""who": "lambda-authorizer""#), "{body}");
        assert_eq!(
            starts(&api),
            before + 3,
            "{path}: two authorizer calls and the function"
        );
    }
    assert!(api
        .server
        .lines()
        .iter()
        .any(|l| l.contains("the token does not match its IdentityValidationExpression")));
}

#[test]
fn cloudformation_http_request_authorizer_rejects_then_admits_with_simple_responses() {
    let (_dir, t) = project(&template(
        r#"  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: http, ProtocolType: HTTP}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Http, StageName: $default, AutoDeploy: true}
  Integ:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Http, IntegrationType: AWS_PROXY, PayloadFormatVersion: "2.0", IntegrationUri: !GetAtt Fn.Arn}
  Auth:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Http
      Name: lambda
      AuthorizerType: REQUEST
      AuthorizerPayloadFormatVersion: "2.0"
      EnableSimpleResponses: true
      IdentitySource: [$request.header.Authorization]
      AuthorizerUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthFn.Arn}/invocations
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Http
      RouteKey: GET /simple
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Auth
      Target: !Sub integrations/${Integ}
"#,
    ));
    let api = StartApi::start(&t, &[]);
    assert_eq!(api.get("/simple", &[]), (401, UNAUTHORIZED.to_string()));
    let (status, body) = api.with_header("/simple", "Authorization: deny");
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    let (status, body) = api.with_header("/simple", "Authorization: allow");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"{"lambda": {"who": "simple"}}"#), "{body}");
}

#[test]
fn openapi_lambda_authorizers_swagger2_and_openapi3_reject_then_admit() {
    let (_dir, t) = project(&template(
        r#"  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      DefinitionBody:
        swagger: "2.0"
        info: {title: rest, version: "1"}
        securityDefinitions:
          Tok:
            type: apiKey
            name: Authorization
            in: header
            x-amazon-apigateway-authtype: custom
            x-amazon-apigateway-authorizer:
              type: token
              authorizerResultTtlInSeconds: 0
              authorizerUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthFn.Arn}/invocations
        security: [{Tok: []}]
        paths:
          /guarded:
            get:
              operationId: getGuarded
              x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
          /open:
            get:
              security: []
              x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: h
      DefinitionBody:
        openapi: "3.0.1"
        info: {title: http, version: "1"}
        components:
          securitySchemes:
            Req:
              type: apiKey
              name: Authorization
              in: header
              x-amazon-apigateway-authorizer:
                type: request
                identitySource: $request.header.Authorization
                authorizerPayloadFormatVersion: "1.0"
                authorizerUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthFn.Arn}/invocations
        paths:
          /hguarded:
            get:
              security: [{Req: []}]
              x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, payloadFormatVersion: "2.0", uri: !GetAtt Fn.Arn}
"#,
    ));
    let api = StartApi::start(&t, &[]);
    assert_eq!(api.get("/v1/guarded", &[]), (401, UNAUTHORIZED.to_string()));
    let (status, body) = api.with_header("/v1/guarded", "Authorization: deny");
    assert_eq!(status, 403, "{body}");
    let (status, body) = api.with_header("/v1/guarded", "Authorization: allow");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("operationName=getGuarded"), "{body}");
    let (status, body) = api.get("/v1/open", &[]);
    assert_eq!(status, 200, "an empty security list is open: {body}");

    assert_eq!(api.get("/h/hguarded", &[]), (401, UNAUTHORIZED.to_string()));
    let (status, body) = api.with_header("/h/hguarded", "Authorization: deny");
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    let (status, body) = api.with_header("/h/hguarded", "Authorization: allow");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#""lambda": {"who": "lambda-authorizer"}"#),
        "{body}"
    );
}

/// An RSA key for the test, its JWKS (`jwks.json`), and a token maker.
struct Keys {
    dir: PathBuf,
}

impl Keys {
    fn new(dir: &Path) -> Keys {
        let script = r#"
import json, sys
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization
import jwt
d = sys.argv[1]
for name in ('key', 'other'):
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    open(f'{d}/{name}.pem', 'wb').write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    if name == 'key':
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key()))
        jwk.update({'kid': 'test', 'alg': 'RS256', 'use': 'sig'})
        open(f'{d}/jwks.json', 'w').write(json.dumps({'keys': [jwk]}))
"#;
        let out = ssam_testkit::run_python(
            &format!(
                "import sys; sys.argv = ['k', {:?}]\n{script}",
                dir.display().to_string()
            ),
            &[],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Keys {
            dir: dir.to_path_buf(),
        }
    }

    /// A token with `claims` (`exp` relative to now when it is a small number), signed with
    /// the JWKS key, or with another key when `key` is `other`.
    fn token(&self, claims: &str, key: &str) -> String {
        let script = format!(
            r#"
import json, time, jwt
c = json.loads({claims:?})
for k in ('exp', 'nbf', 'iat'):
    if k in c: c[k] = int(time.time()) + c[k]
print(jwt.encode(c, open({pem:?}).read(), algorithm='RS256', headers={{'kid': 'test'}}))
"#,
            pem = self.dir.join(format!("{key}.pem")).display().to_string()
        );
        let out = ssam_testkit::run_python(&script, &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

const ISSUER: &str = "https://issuer.example.com";

#[test]
fn jwt_authorizer_checks_issuer_audience_expiry_scope_and_signature() {
    let (dir, t) = project(&template(&format!(
        r#"  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties: {{Name: http, ProtocolType: HTTP}}
  Integ:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {{ApiId: !Ref Http, IntegrationType: AWS_PROXY, PayloadFormatVersion: "2.0", IntegrationUri: !GetAtt Fn.Arn}}
  Jwt:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Http
      Name: jwt
      AuthorizerType: JWT
      IdentitySource: [$request.header.Authorization]
      JwtConfiguration: {{Issuer: {ISSUER}, Audience: [my-client]}}
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Http
      RouteKey: GET /jwt
      AuthorizationType: JWT
      AuthorizerId: !Ref Jwt
      AuthorizationScopes: [read]
      Target: !Sub integrations/${{Integ}}
"#
    )));
    let keys = Keys::new(dir.path());
    let jwks = format!("{ISSUER}={}", dir.path().join("jwks.json").display());
    let api = StartApi::start(&t, &["--jwks", &jwks]);
    let bearer =
        |claims: &str, key: &str| format!("Authorization: Bearer {}", keys.token(claims, key));
    let good = format!(
        r#"{{"iss": "{ISSUER}", "aud": "my-client", "exp": 600, "scope": "read write", "sub": "alice"}}"#
    );

    assert_eq!(
        api.get("/jwt", &[]),
        (401, UNAUTHORIZED.to_string()),
        "no token"
    );
    assert_eq!(
        api.with_header("/jwt", "Authorization: Bearer not.a.jwt"),
        (401, UNAUTHORIZED.to_string())
    );
    let expired = good.replace(r#""exp": 600"#, r#""exp": -60"#);
    assert_eq!(
        api.with_header("/jwt", &bearer(&expired, "key")).0,
        401,
        "expired"
    );
    let wrong_aud = good.replace("my-client", "someone-else");
    assert_eq!(
        api.with_header("/jwt", &bearer(&wrong_aud, "key")).0,
        401,
        "audience"
    );
    let wrong_iss = good.replace(ISSUER, "https://evil.example.com");
    assert_eq!(
        api.with_header("/jwt", &bearer(&wrong_iss, "key")).0,
        401,
        "issuer"
    );
    assert_eq!(
        api.with_header("/jwt", &bearer(&good, "other")).0,
        401,
        "signed by another key"
    );
    let no_scope = good.replace("read write", "write");
    assert_eq!(
        api.with_header("/jwt", &bearer(&no_scope, "key")),
        (403, r#"{"message":"Forbidden"}"#.to_string()),
        "scope"
    );
    // "Troubleshooting issues with HTTP API JWT authorizers": the 401 says why in
    // `www-authenticate`, in AWS's words for a wrong audience.
    assert_eq!(
        api.www_authenticate("/jwt", Some(&bearer(&wrong_aud, "key")))
            .as_deref(),
        Some(
            r#"Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience""#
        )
    );
    assert_eq!(
        api.www_authenticate("/jwt", Some(&bearer(&expired, "key")))
            .as_deref(),
        Some(r#"Bearer scope="" error="invalid_token" error_description="the token has expired""#)
    );
    assert_eq!(
        api.www_authenticate("/jwt", None),
        None,
        "no token: no challenge"
    );
    let (status, body) = api.with_header("/jwt", &bearer(&good, "key"));
    assert_eq!(status, 200, "{body}");
    // "Working with AWS Lambda proxy integrations for HTTP APIs": authorizer.jwt.claims/scopes.
    assert!(body.contains(r#""jwt": {"claims": {"#), "{body}");
    assert!(body.contains(r#""sub": "alice""#), "{body}");
    assert!(body.contains(r#""scopes": ["read", "write"]"#), "{body}");
}

#[test]
fn jwt_and_cognito_without_key_set_check_claims_and_say_signatures_are_not_checked() {
    let pool_arn = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pool1";
    let pool_iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1";
    let (dir, t) = project(&template(&format!(
        r#"  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration: {{issuer: {ISSUER}, audience: [my-client]}}
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      DefinitionBody:
        openapi: "3.0.1"
        info: {{title: rest, version: "1"}}
        components:
          securitySchemes:
            Pool:
              type: apiKey
              name: Authorization
              in: header
              x-amazon-apigateway-authtype: cognito_user_pools
              x-amazon-apigateway-authorizer:
                type: cognito_user_pools
                providerARNs: ["{pool_arn}"]
        paths:
          /cognito:
            get:
              security: [{{Pool: []}}]
              x-amazon-apigateway-integration: {{type: aws_proxy, httpMethod: POST, uri: !Sub "arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Fn.Arn}}/invocations"}}
  RawRest:
    Type: AWS::ApiGateway::RestApi
    Properties: {{Name: raw}}
  RawRes:
    Type: AWS::ApiGateway::Resource
    Properties: {{RestApiId: !Ref RawRest, ParentId: !GetAtt RawRest.RootResourceId, PathPart: rawcognito}}
  RawPool:
    Type: AWS::ApiGateway::Authorizer
    Properties: {{RestApiId: !Ref RawRest, Type: COGNITO_USER_POOLS, Name: pool, IdentitySource: method.request.header.Authorization, ProviderARNs: ["{pool_arn}"]}}
  RawGet:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref RawRest
      ResourceId: !Ref RawRes
      HttpMethod: GET
      AuthorizationType: COGNITO_USER_POOLS
      AuthorizerId: !Ref RawPool
      Integration: {{Type: AWS_PROXY, IntegrationHttpMethod: POST, Uri: !Sub "arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Fn.Arn}}/invocations"}}
  Fn2:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Sam:
          Type: HttpApi
          Properties: {{ApiId: !Ref Http, Path: /samjwt, Method: GET}}
        Scoped:
          Type: HttpApi
          Properties: {{ApiId: !Ref Http, Path: /samscoped, Method: GET, Auth: {{AuthorizationScopes: [admin]}}}}
"#
    )));
    let keys = Keys::new(dir.path());
    let api = StartApi::start(&t, &[]);
    let lines = api.server.lines().join("\n");
    assert!(
        lines.contains(&format!(
            "token signatures of issuer {ISSUER} are not checked"
        )),
        "{lines}"
    );
    assert!(
        lines.contains(&format!("issuer {pool_iss} are not checked")),
        "{lines}"
    );

    // SAM HttpApi JWT authorizer.
    assert_eq!(api.get("/samjwt", &[]), (401, UNAUTHORIZED.to_string()));
    let jwt = keys.token(
        &format!(r#"{{"iss": "{ISSUER}", "client_id": "my-client", "exp": 600}}"#),
        "other",
    );
    let (status, body) = api.with_header("/samjwt", &format!("Authorization: {jwt}"));
    assert_eq!(
        status, 200,
        "without --jwks the signature is not checked: {body}"
    );

    // Cognito user pools, OpenAPI and CloudFormation: REST passes the claims on.
    let id_token = keys.token(
        &format!(r#"{{"iss": "{pool_iss}", "aud": "client", "token_use": "id", "exp": 600, "email": "a@example.com"}}"#),
        "key",
    );
    let foreign = keys.token(
        r#"{"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other", "token_use": "id", "exp": 600}"#,
        "key",
    );
    for path in ["/v1/cognito", "/rawcognito"] {
        assert_eq!(
            api.get(path, &[]),
            (401, UNAUTHORIZED.to_string()),
            "{path}"
        );
        let (status, _) = api.with_header(path, &format!("Authorization: {foreign}"));
        assert_eq!(status, 401, "{path}: another pool's token");
        let (status, body) = api.with_header(path, &format!("Authorization: {id_token}"));
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains(r#""claims": {"#), "{body}");
        assert!(body.contains(r#""email": "a@example.com""#), "{body}");
    }
}

#[test]
fn aws_iam_routes_require_a_sigv4_signature() {
    let (_dir, t) = project(&template(
        r#"  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth: {DefaultAuthorizer: AWS_IAM}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth: {DefaultAuthorizer: AWS_IAM, EnableIamAuthorizer: true}
  Fn3:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
      Events:
        R: {Type: Api, Properties: {RestApiId: !Ref Rest, Path: /iam, Method: GET}}
        H: {Type: HttpApi, Properties: {ApiId: !Ref Http, Path: /hiam, Method: GET}}
"#,
    ));
    let api = StartApi::start(&t, &["--iam-credentials", "AKIDTEST:secret"]);
    // "Control access to a REST API with IAM permissions": unsigned requests get 403.
    assert_eq!(
        api.get("/v1/iam", &[]),
        (
            403,
            r#"{"message":"Missing Authentication Token"}"#.to_string()
        )
    );
    assert_eq!(
        api.get("/hiam", &[]),
        (403, r#"{"message":"Forbidden"}"#.to_string())
    );
    let sign = ["--aws-sigv4", "aws:amz:us-east-1:execute-api", "--user"];
    let (status, body) = api.get("/v1/iam", &[sign[0], sign[1], sign[2], "AKIDTEST:secret"]);
    assert_eq!(status, 200, "{body}");
    let (status, body) = api.get("/hiam", &[sign[0], sign[1], sign[2], "AKIDTEST:secret"]);
    assert_eq!(status, 200, "{body}");
    let (status, body) = api.get("/v1/iam", &[sign[0], sign[1], sign[2], "AKIDOTHER:secret"]);
    assert_eq!(
        status, 403,
        "an access key not given with --iam-credentials: {body}"
    );
}

/// With `--iam-credentials KEY:SECRET` the signature is recomputed ("Create a signed AWS API
/// request", IAM User Guide), for a REST and an HTTP API route: botocore's signer with the
/// right secret gets through (GET and a POST whose body is signed); a wrong secret, a query
/// or body changed after signing, or a clock 10 minutes off get 403 with AWS's
/// `InvalidSignatureException` messages ("How do I troubleshoot signature mismatch errors when
/// making SigV4 signed requests with IAM authentication to API Gateway?").
#[test]
fn aws_iam_signatures_are_recomputed_when_the_secret_is_given() {
    use ssam_testkit::sigv4::{send, Signed, Tamper};
    let (_dir, t) = project(&template(
        r#"  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth: {DefaultAuthorizer: AWS_IAM}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth: {DefaultAuthorizer: AWS_IAM, EnableIamAuthorizer: true}
  Fn3:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
      Events:
        R: {Type: Api, Properties: {RestApiId: !Ref Rest, Path: /iam, Method: ANY}}
        H: {Type: HttpApi, Properties: {ApiId: !Ref Http, Path: /hiam, Method: ANY}}
"#,
    ));
    let api = StartApi::start(&t, &["--iam-credentials", "AKIDTEST:right-secret"]);
    assert!(
        !api.server
            .lines()
            .iter()
            .any(|l| l.contains("signatures are not checked")),
        "{:?}",
        api.server.lines()
    );
    for (path, rest) in [
        ("/v1/iam?a=1&b=two%20words", true),
        ("/hiam?a=1&b=two%20words", false),
    ] {
        let url = format!("{}{path}", api.base);
        let ok = Signed::get(url.clone(), "execute-api", "AKIDTEST", "right-secret");
        let post = Signed {
            method: "POST",
            body: Some(r#"{"order": 1}"#),
            ..ok.clone()
        };
        let answers = send(&[
            ok.clone(),
            post.clone(),
            Signed::get(url.clone(), "execute-api", "AKIDTEST", "wrong-secret"),
            Signed {
                tamper: Tamper::Query,
                ..ok.clone()
            },
            Signed {
                tamper: Tamper::Body,
                ..post.clone()
            },
            Signed {
                minutes_ago: 10,
                ..ok.clone()
            },
            Signed {
                credentials: None,
                ..ok.clone()
            },
            Signed::get(url.clone(), "lambda", "AKIDTEST", "right-secret"),
        ]);
        let [good, good_post, wrong, query, body, stale, unsigned, service] = &answers[..] else {
            panic!("{answers:?}");
        };
        assert_eq!(good.status, 200, "{path}: {good:?}");
        assert!(good.body.contains("reached the function"), "{good:?}");
        assert_eq!(good_post.status, 200, "{path}: {good_post:?}");
        for (what, a) in [
            ("wrong secret", wrong),
            ("query changed", query),
            ("body changed", body),
        ] {
            assert_eq!(a.status, 403, "{path} {what}: {a:?}");
            let message: serde_json::Value = serde_json::from_str(&a.body).unwrap();
            let message = message["message"].as_str().unwrap();
            assert!(
                message.starts_with("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."),
                "{path} {what}: {a:?}"
            );
            if rest {
                assert_eq!(a.error_type, "InvalidSignatureException");
                assert!(
                    message.contains("The Canonical String for this request should have been"),
                    "{a:?}"
                );
            }
        }
        assert_eq!(stale.status, 403, "{stale:?}");
        assert!(stale.body.contains("Signature expired: "), "{stale:?}");
        assert!(stale.body.contains(" - 5 min.)"), "{stale:?}");
        assert_eq!(service.status, 403, "{service:?}");
        assert!(
            service
                .body
                .contains("Credential should be scoped to correct service: 'execute-api'"),
            "{service:?}"
        );
        assert_eq!(unsigned.status, 403, "{unsigned:?}");
        let expected = if rest {
            r#"{"message":"Missing Authentication Token"}"#
        } else {
            r#"{"message":"Forbidden"}"#
        };
        assert_eq!(unsigned.body, expected);
    }
    let log = api.server.stop();
    let reached = log.iter().filter(|l| l.contains("START RequestId")).count();
    assert_eq!(
        reached, 4,
        "only the 4 good requests reach the function: {log:?}"
    );
}

/// Presigned URLs (the signature in the query, as botocore's `SigV4QueryAuth` and the
/// SDKs' presigners write it) are checked like signed headers: the right secret passes, a
/// wrong one or a query changed after signing is refused, and a URL whose `X-Amz-Expires`
/// has passed is "Signature expired".
#[test]
fn aws_iam_presigned_urls_are_checked_too() {
    use ssam_testkit::sigv4::{send, Signed, Tamper};
    let (_dir, t) = project(&template(
        r#"  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth: {DefaultAuthorizer: AWS_IAM, EnableIamAuthorizer: true}
  Fn3:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
      Events:
        H: {Type: HttpApi, Properties: {ApiId: !Ref Http, Path: /hiam, Method: ANY}}
"#,
    ));
    let api = StartApi::start(&t, &["--iam-credentials", "AKIDTEST:right-secret"]);
    let url = format!("{}/hiam?a=1&b=two%20words", api.base);
    let ok = Signed {
        presigned_for: Some(300),
        ..Signed::get(url.clone(), "execute-api", "AKIDTEST", "right-secret")
    };
    let answers = send(&[
        ok.clone(),
        Signed {
            presigned_for: Some(300),
            ..Signed::get(url.clone(), "execute-api", "AKIDTEST", "wrong-secret")
        },
        Signed {
            tamper: Tamper::Query,
            ..ok.clone()
        },
        // Signed 10 minutes ago for 5: expired.
        Signed {
            minutes_ago: 10,
            ..ok.clone()
        },
        // Signed 10 minutes ago for an hour: still good.
        Signed {
            minutes_ago: 10,
            presigned_for: Some(3600),
            ..ok.clone()
        },
    ]);
    let [good, wrong, query, expired, long] = &answers[..] else {
        panic!("{answers:?}");
    };
    assert_eq!(good.status, 200, "{good:?}");
    assert!(good.body.contains("reached the function"), "{good:?}");
    for (what, a) in [("wrong secret", wrong), ("query changed", query)] {
        assert_eq!(a.status, 403, "{what}: {a:?}");
        assert!(
            a.body
                .contains("The request signature we calculated does not match"),
            "{what}: {a:?}"
        );
    }
    assert_eq!(expired.status, 403, "{expired:?}");
    assert!(expired.body.contains("Signature expired: "), "{expired:?}");
    assert!(expired.body.contains(" - 300 sec.)"), "{expired:?}");
    assert_eq!(long.status, 200, "{long:?}");
    let log = api.server.stop();
    let reached = log.iter().filter(|l| l.contains("START RequestId")).count();
    assert_eq!(
        reached, 2,
        "only the 2 good requests reach the function: {log:?}"
    );
}

/// Without a secret, any signature passes, and the start-up says so.
#[test]
fn aws_iam_without_a_secret_says_signatures_are_not_checked() {
    let (_dir, t) = project(&template(
        r#"  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth: {DefaultAuthorizer: AWS_IAM}
  Fn3:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
      Events:
        R: {Type: Api, Properties: {RestApiId: !Ref Rest, Path: /iam, Method: GET}}
"#,
    ));
    let api = StartApi::start(&t, &[]);
    assert!(
        api.server.lines().iter().any(|l| l.contains(
            "Rest: AWS_IAM routes accept any SigV4-signed request: signatures are not checked"
        )),
        "{:?}",
        api.server.lines()
    );
    let a = &ssam_testkit::sigv4::send(&[ssam_testkit::sigv4::Signed::get(
        format!("{}/v1/iam", api.base),
        "execute-api",
        "AKIDANY",
        "any-secret",
    )])[0];
    assert_eq!(a.status, 200, "{a:?}");
}

#[test]
fn invalid_authorizer_combinations_fail_closed_with_the_reason() {
    let (_dir, t) = project(&template(
        r#"  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: http, ProtocolType: HTTP}
  Integ:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Http, IntegrationType: AWS_PROXY, PayloadFormatVersion: "2.0", IntegrationUri: !GetAtt Fn.Arn}
  NoVersion:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Http
      Name: nov
      AuthorizerType: REQUEST
      IdentitySource: [$request.header.Authorization]
      AuthorizerUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthFn.Arn}/invocations
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Http
      RouteKey: GET /broken
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref NoVersion
      Target: !Sub integrations/${Integ}
"#,
    ));
    let api = StartApi::start(&t, &[]);
    let (status, body) = api.with_header("/broken", "Authorization: allow");
    assert_eq!(status, 500, "never open: {body}");
    assert!(!body.contains("reached the function"));
    let lines = api.server.lines().join("\n");
    assert!(
        lines.contains("needs AuthorizerPayloadFormatVersion"),
        "{lines}"
    );
}
