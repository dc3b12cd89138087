//! Function rules: code location, package type, sizing defaults, Globals, Metadata image
//! builds, EventInvokeConfig / FunctionUrlConfig, and the typed event sources.

use super::check;
use crate::{App, Code, EventSource, Function, Text};

fn code(c: &Code) -> String {
    match c {
        Code::Dir { as_written, .. } => format!("dir:{as_written}"),
        Code::Archive { as_written, .. } => format!("archive:{as_written}"),
        Code::S3 {
            bucket,
            key,
            version,
        } => format!(
            "s3:{}/{}{}",
            bucket.display(),
            key.display(),
            version
                .as_ref()
                .map_or(String::new(), |v| format!("@{}", v.display()))
        ),
        Code::Inline { source } => format!("inline:{source}"),
        Code::Image { uri } => format!("image:{}", uri.as_ref().map_or("-".into(), Text::display)),
        Code::Unresolved { value } => format!("unresolved:{}", value.0),
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or("-".to_string(), |v| v.to_string())
}

fn event(source: &EventSource) -> String {
    match source {
        EventSource::Api(e) | EventSource::HttpApi(e) => format!(
            "api={} ref={} {} {} payload={} auth={} timeout={}",
            e.api,
            e.api_is_ref,
            e.method,
            e.path,
            opt(e.payload_format_version.as_ref()),
            opt(e.authorizer.as_ref()),
            opt(e.timeout_ms)
        ),
        EventSource::S3(s) => format!(
            "bucket={} events={} filters={}",
            s.bucket,
            s.events.join(","),
            s.filter_rules
                .iter()
                .map(|r| format!("{}={}", r.name, r.value))
                .collect::<Vec<_>>()
                .join(",")
        ),
        EventSource::Sqs { queue, batch_size } => {
            format!("queue={} batch={}", queue.display(), opt(*batch_size))
        }
        EventSource::Sns { topic } => format!("topic={}", topic.display()),
        EventSource::Schedule {
            schedule,
            input,
            enabled,
        } => format!(
            "schedule={} input={} enabled={enabled}",
            schedule.display(),
            opt(input.as_ref())
        ),
        EventSource::ScheduleV2 { schedule, input } => format!(
            "schedule={} input={}",
            schedule.display(),
            opt(input.as_ref())
        ),
        EventSource::EventBridgeRule { pattern, event_bus } => format!(
            "pattern={} bus={}",
            opt(pattern.as_ref()),
            opt(event_bus.as_ref().map(Text::display))
        ),
        EventSource::DynamoDb {
            stream,
            starting_position,
            batch_size,
        }
        | EventSource::Kinesis {
            stream,
            starting_position,
            batch_size,
        } => format!(
            "stream={} start={} batch={}",
            stream.display(),
            opt(starting_position.as_ref()),
            opt(*batch_size)
        ),
        EventSource::Other { properties } => format!("properties={properties}"),
    }
}

/// A function as a few lines: its configuration, then what is set beyond the defaults.
fn function(f: &Function) -> String {
    let mut out = format!(
        "{} {:?} code={} runtime={} handler={} memory={} timeout={} arch={}\n",
        f.logical_id,
        f.package_type,
        code(&f.code),
        opt(f.runtime.as_ref()),
        opt(f.handler.as_ref()),
        f.memory_size,
        f.timeout,
        f.architectures.join(",")
    );
    let mut line = |s: String| out.push_str(&format!("  {s}\n"));
    if let Some(n) = &f.function_name {
        line(format!("name {}", n.display()));
    }
    for (k, v) in &f.environment {
        line(format!("env {k}={}", v.display()));
    }
    for l in &f.layers {
        line(format!("layer {}", l.display()));
    }
    if let Some(r) = f.reserved_concurrency {
        line(format!("reserved {r}"));
    }
    if let Some(e) = f.ephemeral_storage_mb {
        line(format!("ephemeral {e}"));
    }
    if let Some(b) = &f.image_build {
        let context = b
            .docker_context
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let args: Vec<String> = b
            .build_args
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        line(format!(
            "image_build dockerfile={} context={context} tag={} args={} target={}",
            b.dockerfile,
            opt(b.docker_tag.as_ref()),
            args.join(","),
            opt(b.build_target.as_ref())
        ));
    }
    if let Some(c) = &f.image_config {
        line(format!(
            "image_config command={} entry_point={} workdir={}",
            opt(c.command.as_ref().map(|c| c.join(" "))),
            opt(c.entry_point.as_ref().map(|c| c.join(" "))),
            opt(c.working_directory.as_ref())
        ));
    }
    if let Some(m) = &f.build_method {
        line(format!("build_method {m}"));
    }
    if let Some(c) = &f.event_invoke_config {
        line(format!(
            "event_invoke retries={} max_age={}",
            opt(c.maximum_retry_attempts),
            opt(c.maximum_event_age_in_seconds)
        ));
    }
    if let Some(u) = &f.function_url {
        line(format!(
            "url auth={} mode={} cors={}",
            u.auth_type,
            u.invoke_mode,
            opt(u.cors.as_ref().map(|c| format!(
                "origins={:?} methods={:?} headers={:?} expose={:?} credentials={} max_age={}",
                c.allow_origins,
                c.allow_methods,
                c.allow_headers,
                c.expose_headers,
                c.allow_credentials,
                opt(c.max_age)
            )))
        ));
    }
    for e in &f.events {
        line(format!(
            "event {} {} {}",
            e.name,
            e.event_type,
            event(&e.source)
        ));
    }
    out
}

fn functions(app: &App) -> String {
    app.functions.iter().map(function).collect()
}

#[test]
fn defaults_are_lambdas_own() {
    check(
        r#"
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {Runtime: python3.12, Handler: app.handler}
          Raw:
            Type: AWS::Lambda::Function
            Properties:
              Runtime: nodejs20.x
              Handler: index.handler
              Code: {ZipFile: "exports.handler = async () => 1"}
        "#,
        functions,
        r#"
        Fn Zip code=dir:. runtime=python3.12 handler=app.handler memory=128 timeout=3 arch=x86_64
        Raw Zip code=inline:exports.handler = async () => 1 runtime=nodejs20.x handler=index.handler memory=128 timeout=3 arch=x86_64
        "#,
    );
}

#[test]
fn code_comes_from_code_uri_inline_code_or_image_uri() {
    check(
        r#"
        Resources:
          Dir: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.h, CodeUri: src/}}
          Zip: {Type: AWS::Serverless::Function, Properties: {Runtime: java21, Handler: a.H, CodeUri: build/app.JAR}}
          S3Uri: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.h, CodeUri: s3://bucket/path/app.zip}}
          S3Map: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.h, CodeUri: {Bucket: b, Key: k.zip, Version: "3"}}}
          Inline: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: index.h, InlineCode: "def h(e, c): pass", CodeUri: ignored/}}
          Import: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.h, CodeUri: !ImportValue Code}}
          Image: {Type: AWS::Serverless::Function, Properties: {PackageType: Image, ImageUri: repo/app:1, CodeUri: ignored/}}
          Bad: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.h, CodeUri: [a, b]}}
          RawS3: {Type: AWS::Lambda::Function, Properties: {Runtime: python3.12, Handler: a.h, Code: {S3Bucket: b, S3Key: k.zip}}}
          RawImage: {Type: AWS::Lambda::Function, Properties: {PackageType: Image, Code: {ImageUri: repo/raw:2}}}
          NoCode: {Type: AWS::Lambda::Function, Properties: {Runtime: python3.12, Handler: a.h}}
        "#,
        functions,
        r#"
        Dir Zip code=dir:src/ runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
        Zip Zip code=archive:build/app.JAR runtime=java21 handler=a.H memory=128 timeout=3 arch=x86_64
        S3Uri Zip code=s3:bucket/path/app.zip runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
        S3Map Zip code=s3:b/k.zip@3 runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
        Inline Zip code=inline:def h(e, c): pass runtime=python3.12 handler=index.h memory=128 timeout=3 arch=x86_64
        Import Zip code=unresolved:{"Fn::ImportValue":"Code"} runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
        Image Image code=image:repo/app:1 runtime=- handler=- memory=128 timeout=3 arch=x86_64
        Bad Zip code=unresolved:["a","b"] runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
        RawS3 Zip code=s3:b/k.zip runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
        RawImage Image code=image:repo/raw:2 runtime=- handler=- memory=128 timeout=3 arch=x86_64
        NoCode Zip code=dir:. runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
        error 9:99: Bad: CodeUri must be a path, an s3:// URI or {Bucket, Key}
        error 12:11: NoCode: AWS::Lambda::Function needs Code
        "#,
    );
}

#[test]
fn package_type_and_sizes_are_checked_where_written() {
    check(
        r#"
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              PackageType: Jar
              Runtime: python3.12
              Handler: a.h
              MemorySize: lots
              Timeout: 2.5
              ReservedConcurrentExecutions: -1
          Sized:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: a.h
              MemorySize: "1024"
              Timeout: 30.0
              ReservedConcurrentExecutions: 2
              EphemeralStorage: {Size: 2048}
              Architectures: [arm64]
        "#,
        functions,
        r#"
        Fn Zip code=dir:. runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
        Sized Zip code=dir:. runtime=python3.12 handler=a.h memory=1024 timeout=30 arch=arm64
          reserved 2
          ephemeral 2048
        error 5:20: Fn: PackageType must be Zip or Image, not "Jar"
        error 8:19: Fn: MemorySize must be a whole number, not "lots"
        error 9:16: Fn: Timeout must be a whole number, not "2.5"
        error 10:37: Fn: ReservedConcurrentExecutions must be a whole number, not "-1"
        "#,
    );
}

#[test]
fn globals_apply_to_serverless_functions_only_and_ignore_globals_opts_out() {
    check(
        r#"
        Globals:
          Function:
            Runtime: python3.12
            Handler: app.handler
            MemorySize: 512
            Layers: [global-layer]
            Environment: {Variables: {STAGE: dev, TABLE: t}}
        Resources:
          Merged:
            Type: AWS::Serverless::Function
            Properties:
              Timeout: 10
              Layers: [own-layer]
              Environment: {Variables: {STAGE: prod}}
          OptedOut:
            Type: AWS::Serverless::Function
            IgnoreGlobals: [MemorySize, Environment]
            Properties: {}
          AllOut:
            Type: AWS::Serverless::Function
            IgnoreGlobals: "*"
            Properties: {Runtime: nodejs20.x, Handler: index.h}
          Raw:
            Type: AWS::Lambda::Function
            Properties: {Runtime: nodejs20.x, Handler: index.h, Code: src/}
        "#,
        functions,
        r#"
        Merged Zip code=dir:. runtime=python3.12 handler=app.handler memory=512 timeout=10 arch=x86_64
          env STAGE=prod
          env TABLE=t
          layer global-layer
          layer own-layer
        OptedOut Zip code=dir:. runtime=python3.12 handler=app.handler memory=128 timeout=3 arch=x86_64
          layer global-layer
        AllOut Zip code=dir:. runtime=nodejs20.x handler=index.h memory=128 timeout=3 arch=x86_64
        Raw Zip code=dir:src/ runtime=nodejs20.x handler=index.h memory=128 timeout=3 arch=x86_64
        "#,
    );
}

#[test]
fn image_functions_build_from_metadata_only_with_a_dockerfile_or_context() {
    check(
        r#"
        Parameters:
          Tag: {Type: String, Default: v1}
        Resources:
          Built:
            Type: AWS::Serverless::Function
            Properties:
              PackageType: Image
              ImageConfig: {Command: [app.handler], EntryPoint: [/lambda-entrypoint.sh], WorkingDirectory: /var/task}
            Metadata:
              Dockerfile: Dockerfile.lambda
              DockerContext: ./thumbnail
              DockerTag: !Ref Tag
              DockerBuildArgs: {PY: "3.12"}
              DockerBuildTarget: runtime
          ContextOnly:
            Type: AWS::Serverless::Function
            Properties: {PackageType: Image}
            Metadata: {DockerContext: app}
          TagOnly:
            Type: AWS::Serverless::Function
            Properties: {PackageType: Image, ImageUri: repo/app:1}
            Metadata: {DockerTag: x}
          ZipWithDockerfile:
            Type: AWS::Serverless::Function
            Properties: {Runtime: provided.al2023, Handler: bootstrap}
            Metadata: {Dockerfile: Dockerfile, BuildMethod: rust-cargolambda}
        "#,
        functions,
        r#"
        Built Image code=image:- runtime=- handler=- memory=128 timeout=3 arch=x86_64
          image_build dockerfile=Dockerfile.lambda context=thumbnail tag=v1 args=PY=3.12 target=runtime
          image_config command=app.handler entry_point=/lambda-entrypoint.sh workdir=/var/task
        ContextOnly Image code=image:- runtime=- handler=- memory=128 timeout=3 arch=x86_64
          image_build dockerfile=Dockerfile context=app tag=- args= target=-
        TagOnly Image code=image:repo/app:1 runtime=- handler=- memory=128 timeout=3 arch=x86_64
        ZipWithDockerfile Zip code=dir:. runtime=provided.al2023 handler=bootstrap memory=128 timeout=3 arch=x86_64
          build_method rust-cargolambda
        "#,
    );
}

#[test]
fn event_invoke_config_and_function_url_defaults() {
    check(
        r#"
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: a.h
              FunctionName: !Sub "${AWS::StackName}-fn"
              EventInvokeConfig: {MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60}
              FunctionUrlConfig: {AuthType: AWS_IAM}
          Streaming:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: nodejs20.x
              Handler: index.h
              FunctionUrlConfig: {InvokeMode: RESPONSE_STREAM, Cors: {AllowOrigins: ["*"]}}
        "#,
        functions,
        r#"
        Fn Zip code=dir:. runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
          name local-fn
          event_invoke retries=0 max_age=60
          url auth=AWS_IAM mode=BUFFERED cors=-
        Streaming Zip code=dir:. runtime=nodejs20.x handler=index.h memory=128 timeout=3 arch=x86_64
          url auth=NONE mode=RESPONSE_STREAM cors=origins=["*"] methods=[] headers=[] expose=[] credentials=false max_age=-
        "#,
    );
}

#[test]
fn events_become_typed_sources() {
    check(
        r#"
        Resources:
          Uploads: {Type: AWS::S3::Bucket, Properties: {BucketName: uploads}}
          Api: {Type: AWS::Serverless::Api, Properties: {StageName: dev}}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: a.h
              Events:
                Get: {Type: Api, Properties: {Path: "/items/{id}", Method: get, RestApiId: !Ref Api, TimeoutInMillis: 5000}}
                Any: {Type: Api, Properties: {Path: /any, Method: x-amazon-apigateway-any-method}}
                External: {Type: Api, Properties: {Path: /ext, Method: post, RestApiId: abc123}}
                Catch: {Type: HttpApi}
                Http: {Type: HttpApi, Properties: {Path: /h, Method: put, PayloadFormatVersion: "1.0", Auth: {Authorizer: NONE}}}
                Upload:
                  Type: S3
                  Properties:
                    Bucket: !Ref Uploads
                    Events: [s3:ObjectRemoved:*, s3:ObjectCreated:*]
                    Filter: {S3Key: {Rules: [{Name: Suffix, Value: .mp4}, {Name: Prefix, Value: in/}]}}
                Queue: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn, BatchSize: 5}}
                Topic: {Type: SNS, Properties: {Topic: !ImportValue Topic}}
                Tick: {Type: Schedule, Properties: {Schedule: rate(1 minute), Enabled: false, Input: '{"a":1}'}}
                Tick2: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(5 minutes)}}
                Rule: {Type: EventBridgeRule, Properties: {Pattern: {source: [app]}}}
                Table: {Type: DynamoDB, Properties: {Stream: !GetAtt T.StreamArn, StartingPosition: LATEST}}
                Mq: {Type: MQ, Properties: {Broker: b, Queues: [q]}}
          Q: {Type: AWS::SQS::Queue}
          T: {Type: AWS::DynamoDB::Table, Properties: {TableName: t}}
        "#,
        functions,
        r#"
        Fn Zip code=dir:. runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
          event Get Api api=Api ref=true GET /items/{id} payload=- auth=- timeout=5000
          event Any Api api=ServerlessRestApi ref=true ANY /any payload=- auth=- timeout=-
          event External Api api=abc123 ref=false POST /ext payload=- auth=- timeout=-
          event Catch HttpApi api=ServerlessHttpApi ref=true ANY $default payload=- auth=- timeout=-
          event Http HttpApi api=ServerlessHttpApi ref=true PUT /h payload=1.0 auth=NONE timeout=-
          event Upload S3 bucket=Uploads events=s3:ObjectCreated:*,s3:ObjectRemoved:* filters=prefix=in/,suffix=.mp4
          event Queue SQS queue=arn:aws:sqs:us-east-1:123456789012:Q batch=5
          event Topic SNS topic={"Fn::ImportValue":"Topic"}
          event Tick Schedule schedule=rate(1 minute) input={"a":1} enabled=false
          event Tick2 ScheduleV2 schedule=rate(5 minutes) input=-
          event Rule EventBridgeRule pattern={"source":["app"]} bus=-
          event Table DynamoDB stream={"Fn::GetAtt":["T","StreamArn"]} start=LATEST batch=-
          event Mq MQ properties={"Broker":"b","Queues":["q"]}
        "#,
    );
}

#[test]
fn broken_events_are_reported_and_skipped() {
    check(
        r#"
        Resources:
          NotABucket: {Type: AWS::SQS::Queue}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: a.h
              Events:
                NoType: {Properties: {Path: /}}
                Typo: {Type: Apigateway, Properties: {Path: /}}
                Outside: {Type: S3, Properties: {Bucket: some-bucket, Events: s3:ObjectCreated:*}}
                Wrong: {Type: S3, Properties: {Bucket: !Ref NotABucket, Events: s3:ObjectCreated:*}}
          ListEvents:
            Type: AWS::Serverless::Function
            Properties: {Runtime: python3.12, Handler: a.h, Events: [a, b]}
        "#,
        functions,
        r#"
        Fn Zip code=dir:. runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
          event Wrong S3 bucket=NotABucket events=s3:ObjectCreated:* filters=
        ListEvents Zip code=dir:. runtime=python3.12 handler=a.h memory=128 timeout=3 arch=x86_64
        error 9:17: Fn: event NoType has no Type
        error 10:22: Fn: event Typo has unknown type "Apigateway"
        error 11:50: Fn: S3 event Outside must reference a bucket of this template with !Ref
        error 12:48: Fn: S3 event Wrong: NotABucket is not an AWS::S3::Bucket
        error 15:61: ListEvents: Events must be a mapping of event names to events
        "#,
    );
}
