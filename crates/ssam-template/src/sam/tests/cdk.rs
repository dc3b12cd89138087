//! What `cdk synth` writes: code located through `aws:asset:*` metadata, raw API Gateway
//! stages, MOCK methods, CDK's parameters and rules.

use super::check;
use crate::{App, Code, MockValue};

fn functions(app: &App) -> String {
    app.functions
        .iter()
        .map(|f| {
            let code = match &f.code {
                Code::Dir { as_written, .. } => format!("dir:{as_written}"),
                Code::Archive { as_written, .. } => format!("archive:{as_written}"),
                Code::S3 { key, .. } => format!("s3:{}", key.display()),
                Code::Image { .. } => "image".to_string(),
                other => format!("{other:?}"),
            };
            let build = f.image_build.as_ref().map_or(String::new(), |b| {
                format!(
                    " build={}@{} args={:?} target={:?}",
                    b.dockerfile,
                    b.docker_context.file_name().unwrap().to_string_lossy(),
                    b.build_args,
                    b.build_target
                )
            });
            format!("{} {:?} {code}{build}", f.logical_id, f.package_type)
        })
        .chain(app.layers.iter().map(|l| match &l.content {
            Code::Dir { as_written, .. } => format!("layer {} dir:{as_written}", l.logical_id),
            other => format!("layer {} {other:?}", l.logical_id),
        }))
        .collect::<Vec<_>>()
        .join("\n")
}

// aws/aws-cdk design "code-asset-metadata" (#1433): `aws:asset:path` relative to the
// template, `aws:asset:property` the property it stands for.
#[test]
fn code_comes_from_cdk_asset_metadata() {
    check(
        r#"
        Parameters:
          BootstrapVersion:
            Type: AWS::SSM::Parameter::Value<String>
            Default: /cdk-bootstrap/hnb659fds/version
          AssetParameters4240bf54c428dfb79ea7c775254a739e485a1ba785944cc343a47ae86275812fS3Bucket6D4D5D7E:
            Type: String
        Resources:
          Fn:
            Type: AWS::Lambda::Function
            Properties:
              Code:
                S3Bucket: !Sub "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"
                S3Key: e97a4b5e49648178ec274b84d69a91a42097afdede2454552ff99577b4cf283a.zip
              Handler: index.handler
              Runtime: python3.12
            Metadata:
              aws:asset:path: asset.e97a4b5e49648178ec274b84d69a91a42097afdede2454552ff99577b4cf283a
              aws:asset:is-bundled: false
              aws:asset:property: Code
          Img:
            Type: AWS::Lambda::Function
            Properties:
              Code: {ImageUri: !Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/cdk-hnb659fds-container-assets:abc"}
              PackageType: Image
            Metadata:
              aws:asset:path: asset.abc
              aws:asset:dockerfile-path: docker/Dockerfile.lambda
              aws:asset:docker-build-args: {PY: "3.12"}
              aws:asset:docker-build-target: runtime
              aws:asset:property: Code.ImageUri
          OtherProperty:
            Type: AWS::Lambda::Function
            Properties:
              Code: {S3Bucket: b, S3Key: k.zip}
              Handler: index.handler
              Runtime: python3.12
            Metadata: {aws:asset:path: asset.x, aws:asset:property: Environment}
          Layer:
            Type: AWS::Lambda::LayerVersion
            Properties:
              Content: {S3Bucket: b, S3Key: l.zip}
            Metadata: {aws:asset:path: asset.layer, aws:asset:property: Content}
          Rules: {Type: AWS::CDK::Metadata, Properties: {Analytics: v2}}
        Rules:
          CheckBootstrapVersion:
            Assertions:
              - Assert: !Not [!Contains [["1", "2"], !Ref BootstrapVersion]]
                AssertDescription: CDK bootstrap stack version 6 required
        "#,
        functions,
        "
        Fn Zip dir:asset.e97a4b5e49648178ec274b84d69a91a42097afdede2454552ff99577b4cf283a
        Img Image image build=docker/Dockerfile.lambda@asset.abc args={\"PY\": \"3.12\"} target=Some(\"runtime\")
        OtherProperty Zip s3:k.zip
        layer Layer dir:asset.layer
        warning 5:3: parameter AssetParameters4240bf54c428dfb79ea7c775254a739e485a1ba785944cc343a47ae86275812fS3Bucket6D4D5D7E has no value: it is a CDK asset parameter, used only to deploy; ssam reads the asset from its aws:asset:path
        ",
    );
}

// "Invoking a REST API in API Gateway": the stage is the first path segment of the URL.
#[test]
fn raw_api_stages_are_named_as_written() {
    check(
        r#"
        Resources:
          Rest: {Type: AWS::ApiGateway::RestApi, Properties: {Name: r}}
          Deployment: {Type: AWS::ApiGateway::Deployment, Properties: {RestApiId: !Ref Rest}}
          Stage:
            Type: AWS::ApiGateway::Stage
            Properties: {RestApiId: !Ref Rest, DeploymentId: !Ref Deployment, StageName: prod, Variables: {color: blue}}
          OldStyle: {Type: AWS::ApiGateway::RestApi, Properties: {Name: o}}
          OldDeployment:
            Type: AWS::ApiGateway::Deployment
            Properties: {RestApiId: !Ref OldStyle, StageName: v1}
          Bare: {Type: AWS::ApiGateway::RestApi, Properties: {Name: b}}
          Http: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: h, ProtocolType: HTTP}}
          HttpStage: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref Http, StageName: dev, AutoDeploy: true}}
        "#,
        |a| {
            a.apis
                .iter()
                .map(|api| {
                    format!(
                        "{} {} {:?}",
                        api.logical_id, api.stage_name, api.stage_variables
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
        r#"
        Rest prod {"color": "blue"}
        OldStyle v1 {}
        Bare Prod {}
        Http dev {}
        "#,
    );
}

// "Set up mock integrations in API Gateway": the request template's statusCode selects the
// integration response (its SelectionPattern, else the default one).
#[test]
fn mock_methods_answer_from_their_integration_response() {
    check(
        r##"
        Resources:
          Rest: {Type: AWS::ApiGateway::RestApi, Properties: {Name: r}}
          Items: {Type: AWS::ApiGateway::Resource, Properties: {RestApiId: !Ref Rest, ParentId: !GetAtt Rest.RootResourceId, PathPart: items}}
          ItemsOptions:
            Type: AWS::ApiGateway::Method
            Properties:
              RestApiId: !Ref Rest
              ResourceId: !Ref Items
              HttpMethod: OPTIONS
              AuthorizationType: NONE
              Integration:
                Type: MOCK
                RequestTemplates: {application/json: "{ statusCode: 200 }"}
                IntegrationResponses:
                  - StatusCode: "204"
                    ResponseParameters:
                      method.response.header.Access-Control-Allow-Origin: "'*'"
                      method.response.header.Vary: method.request.header.Origin
          Teapot:
            Type: AWS::ApiGateway::Method
            Properties:
              RestApiId: !Ref Rest
              ResourceId: !GetAtt Rest.RootResourceId
              HttpMethod: get
              Integration:
                Type: MOCK
                RequestTemplates: {application/json: '{"statusCode": 418}'}
                IntegrationResponses:
                  - {StatusCode: "200", ResponseTemplates: {application/json: '{"ok": true}'}}
                  - {StatusCode: "418", SelectionPattern: "418", ResponseTemplates: {application/json: '{"tea": true}'}}
          Nothing:
            Type: AWS::ApiGateway::Method
            Properties:
              RestApiId: !Ref Rest
              ResourceId: !Ref Items
              HttpMethod: DELETE
              Integration: {Type: MOCK}
          Guarded:
            Type: AWS::ApiGateway::Method
            Properties:
              RestApiId: !Ref Rest
              ResourceId: !Ref Items
              HttpMethod: PUT
              AuthorizationType: AWS_IAM
              Integration: {Type: MOCK}
          Multi:
            Type: AWS::ApiGateway::Method
            Properties:
              RestApiId: !Ref Rest
              ResourceId: !GetAtt Rest.RootResourceId
              HttpMethod: OPTIONS
              Integration:
                Type: MOCK
                RequestTemplates: {application/json: "{ statusCode: 200 }"}
                IntegrationResponses:
                  - StatusCode: "204"
                    ResponseParameters: {method.response.header.Access-Control-Allow-Origin: "'https://a.example'"}
                    ResponseTemplates:
                      application/json: "#set($origin = $input.params(\"Origin\"))\n#if($origin == \"\") #set($origin = $input.params(\"origin\")) #end\n#if($origin == \"https://b.example\" || $origin.matches(\"https://.+\\\\.c\\\\.example\"))\n  #set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)\n#end"
          NoIntegration:
            Type: AWS::ApiGateway::Method
            Properties: {RestApiId: !Ref Rest, ResourceId: !Ref Items, HttpMethod: PATCH}
        "##,
        |a| {
            a.mock_methods
                .iter()
                .map(|m| {
                    let headers: Vec<String> = m
                        .headers
                        .iter()
                        .map(|(k, v)| match v {
                            MockValue::Literal(l) => format!("{k}='{l}'"),
                            MockValue::RequestHeader(h) => format!("{k}=header:{h}"),
                            MockValue::RequestQuery(q) => format!("{k}=query:{q}"),
                        })
                        .collect();
                    format!(
                        "{} {} {} {} [{}] {} echo={:?}",
                        m.api,
                        m.method,
                        m.path,
                        m.status,
                        headers.join(", "),
                        m.body.as_deref().unwrap_or("-"),
                        m.echo_origins
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
        r#"
        Rest OPTIONS /items 204 [Access-Control-Allow-Origin='*', Vary=header:Origin] - echo=[]
        Rest GET / 418 [] {"tea": true} echo=[]
        Rest DELETE /items 500 [] {"message": "Internal server error"} echo=[]
        Rest OPTIONS / 204 [Access-Control-Allow-Origin='https://a.example'] - echo=["https://b.example", "https://*.c.example"]
        warning 38:3: Guarded: a MOCK method with AuthorizationType AWS_IAM is not served
        error 60:3: NoIntegration: the method has no Integration
        "#,
    );
}
