//! The `generate-event` catalogue: service → event → flags (with defaults) → builder.
//!
//! Adding an event is one [`EventSpec`] entry in [`SERVICES`] and one builder function in
//! `catalog`; the command line, the listings and the snapshot tests all read this table.

use indexmap::IndexMap;
use serde_json::Value;

use crate::catalog::{core, misc};
use crate::Error;

/// One `--flag` of an event, with the value used when it is not given.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
    /// Other spellings accepted on the command line (SAM's camel-case names).
    pub aliases: &'static [&'static str],
}

/// A flag with no aliases.
pub const fn flag(name: &'static str, default: &'static str, help: &'static str) -> Flag {
    Flag {
        name,
        default,
        help,
        aliases: &[],
    }
}

/// Builds an event from resolved flag values.
pub type Builder = fn(&Params) -> Result<Value, Error>;

/// One event of a service.
pub struct EventSpec {
    pub name: &'static str,
    pub help: &'static str,
    pub flags: &'static [Flag],
    pub build: Builder,
}

/// A service and its events, listed as `generate-event SERVICE` shows them.
pub struct Service {
    pub name: &'static str,
    pub help: &'static str,
    pub events: &'static [EventSpec],
}

/// Flag values after defaults are applied, by flag name.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: IndexMap<&'static str, String>,
}

impl Params {
    /// The value of flag `name` (empty if the event has no such flag).
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// The value of flag `name`, parsed.
    pub fn parse<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<T, Error> {
        let raw = self.get(name);
        raw.parse().map_err(|_| Error::InvalidValue {
            flag: name.to_owned(),
            value: raw.to_owned(),
            reason: format!("expected {what}"),
        })
    }

    /// `None` for an empty value, so optional fields can be left out.
    pub fn optional(&self, name: &str) -> Option<&str> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }
}

/// Looks up a service by name.
pub fn service(name: &str) -> Result<&'static Service, Error> {
    SERVICES
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| Error::UnknownService {
            name: name.to_owned(),
            expected: SERVICES
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Looks up an event of a service.
pub fn event(service_name: &str, event_name: &str) -> Result<&'static EventSpec, Error> {
    let svc = service(service_name)?;
    svc.events
        .iter()
        .find(|e| e.name == event_name)
        .ok_or_else(|| Error::UnknownEvent {
            service: svc.name.to_owned(),
            name: event_name.to_owned(),
            expected: svc.event_names().join(", "),
        })
}

/// Parses `args` against `service`/`event`'s flags and builds the event.
pub fn generate(service_name: &str, event_name: &str, args: &[String]) -> Result<Value, Error> {
    let spec = event(service_name, event_name)?;
    let params = spec.parse_args(service_name, args)?;
    (spec.build)(&params)
}

impl Service {
    /// Event names, sorted as the listing shows them.
    pub fn event_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.events.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names
    }
}

impl EventSpec {
    /// The values of every flag at its default.
    pub fn defaults(&self) -> Params {
        Params {
            values: self
                .flags
                .iter()
                .map(|f| (f.name, f.default.to_owned()))
                .collect(),
        }
    }

    /// Resolves `--flag value` / `--flag=value` arguments; later repeats win.
    pub fn parse_args(&self, service_name: &str, args: &[String]) -> Result<Params, Error> {
        let mut params = self.defaults();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let Some(body) = arg.strip_prefix("--") else {
                return Err(Error::UnexpectedArgument {
                    arg: arg.clone(),
                    service: service_name.to_owned(),
                    event: self.name.to_owned(),
                });
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            let flag = self
                .flags
                .iter()
                .find(|f| f.name == name || f.aliases.contains(&name))
                .ok_or_else(|| Error::UnknownFlag {
                    flag: format!("--{name}"),
                    service: service_name.to_owned(),
                    event: self.name.to_owned(),
                    expected: self.flag_list(),
                })?;
            let value = match inline {
                Some(v) => v,
                None => iter.next().cloned().ok_or_else(|| Error::MissingValue {
                    flag: format!("--{}", flag.name),
                })?,
            };
            params.values.insert(flag.name, value);
        }
        Ok(params)
    }

    fn flag_list(&self) -> String {
        if self.flags.is_empty() {
            return "(this event takes no flags)".to_owned();
        }
        self.flags
            .iter()
            .map(|f| format!("--{}", f.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

const REGION: Flag = flag("region", "us-east-1", "AWS region");
const PARTITION: Flag = flag(
    "partition",
    "aws",
    "AWS partition (aws, aws-cn, aws-us-gov)",
);
const ACCOUNT_ID: Flag = flag("account-id", "123456789012", "AWS account id");

const ALEXA_FLAGS: &[Flag] = &[
    flag("session-id", "123456789012", "Alexa session id suffix"),
    flag("user-id", "testUser", "Alexa user id suffix"),
    flag("application-id", "987654321", "Alexa skill id suffix"),
    flag("request-id", "1234", "Alexa request id suffix"),
];
const CLOUDFRONT_FLAGS: &[Flag] = &[
    flag("uri", "/test", "request URI"),
    flag("method", "GET", "HTTP method"),
];
const CONFIG_FLAGS: &[Flag] = &[REGION, PARTITION, ACCOUNT_ID];
const ANALYTICS_FLAGS_BASE: [Flag; 5] = [
    PARTITION,
    REGION,
    ACCOUNT_ID,
    flag(
        "application",
        "example-application",
        "Kinesis Data Analytics application name",
    ),
    flag("stream", "example-stream", "source stream name"),
];
const fn analytics_flags(data: &'static str) -> [Flag; 6] {
    let [a, b, c, d, e] = ANALYTICS_FLAGS_BASE;
    [
        a,
        b,
        c,
        d,
        e,
        flag("data", data, "record data as text (base64-encoded for you)"),
    ]
}
const ANALYTICS: [Flag; 6] = analytics_flags("This is a test from Kinesis Analytics");
const ANALYTICS_COMPRESSED: [Flag; 6] =
    analytics_flags("{\"name\":\"example\",\"address\":\"somewhere\"}");
const ANALYTICS_DYNAMODB: [Flag; 6] = analytics_flags(
    "{\"ROWTIME_TIMESTAMP\":\"2017-12-15 01:09:50.000\",\"VEHICLEID\":\"5\",\"VEHICLECOUNT\":18}",
);

macro_rules! ev {
    ($name:literal, $help:literal, $flags:expr, $build:path) => {
        EventSpec {
            name: $name,
            help: $help,
            flags: $flags,
            build: $build,
        }
    };
}

/// Every service and event `generate-event` knows: SAM CLI's 26 services and 68 events,
/// plus `eventbridge` (custom and scheduled events) and `lambda function-url`.
pub static SERVICES: &[Service] = &[
    Service {
        name: "alb",
        help: "Elastic Load Balancing Application Load Balancer",
        events: &[ev!(
            "request",
            "Generates an Application Load Balancer request event",
            &[
                flag("body", "{\"test\":\"body\"}", "request body (base64-encoded for you)"),
                flag("method", "POST", "HTTP method"),
                flag("path", "path/to/resource", "request path"),
                ACCOUNT_ID,
                flag("region", "us-east-2", "AWS region of the load balancer"),
                PARTITION,
                flag("dns-suffix", "us-east-2.elb.amazonaws.com", "load balancer DNS suffix"),
            ],
            misc::alb_request
        )],
    },
    Service {
        name: "alexa-skills-kit",
        help: "Alexa Skills Kit",
        events: &[
            ev!("end-session", "Generates an Alexa Skills Kit session ended request", ALEXA_FLAGS, misc::alexa_end_session),
            ev!("intent-answer", "Generates an Alexa Skills Kit AnswerIntent request", ALEXA_FLAGS, misc::alexa_intent_answer),
            ev!("intent-getnewfact", "Generates an Alexa Skills Kit GetNewFactIntent request", ALEXA_FLAGS, misc::alexa_intent_getnewfact),
            ev!("intent-mycoloris", "Generates an Alexa Skills Kit MyColorIsIntent request", ALEXA_FLAGS, misc::alexa_intent_mycoloris),
            ev!("intent-recipe", "Generates an Alexa Skills Kit RecipeIntent request", ALEXA_FLAGS, misc::alexa_intent_recipe),
            ev!("start-session", "Generates an Alexa Skills Kit launch request", ALEXA_FLAGS, misc::alexa_start_session),
        ],
    },
    Service {
        name: "alexa-smart-home",
        help: "Alexa Smart Home",
        events: &[
            ev!("smart-home-control-turn-off-request", "Generates an Alexa Smart Home TurnOffRequest", &[], misc::smart_home_turn_off),
            ev!("smart-home-control-turn-on-request", "Generates an Alexa Smart Home TurnOnRequest", &[], misc::smart_home_turn_on),
            ev!("smart-home-discovery-request", "Generates an Alexa Smart Home DiscoverAppliancesRequest", &[], misc::smart_home_discovery),
        ],
    },
    Service {
        name: "apigateway",
        help: "Amazon API Gateway",
        events: &[
            ev!(
                "authorizer",
                "Generates an API Gateway TOKEN authorizer event",
                &[
                    ACCOUNT_ID,
                    PARTITION,
                    REGION,
                    flag("stage", "prod", "stage name"),
                    flag("method", "POST", "HTTP method"),
                    flag("resource", "{proxy+}", "resource path"),
                    Flag { aliases: &["restApiId"], ..flag("rest-api-id", "example", "REST API id") },
                    flag("token", "incoming-client-token", "the caller's token"),
                ],
                core::apigateway_authorizer
            ),
            ev!(
                "aws-proxy",
                "Generates an API Gateway REST API proxy event (payload format 1.0)",
                &[
                    flag("body", "{\"test\":\"body\"}", "request body"),
                    flag("base64", "true", "pass the body base64-encoded (true/false)"),
                    flag("stage", "prod", "stage name"),
                    flag("method", "POST", "HTTP method"),
                    flag("resource", "/{proxy+}", "matched resource"),
                    flag("path", "path/to/resource", "request path, without the stage"),
                    flag("querystringparameters", "{\"foo\": \"bar\"}", "query parameters as a JSON object"),
                    ACCOUNT_ID,
                    flag("dns-suffix", "us-east-1.amazonaws.com", "API DNS suffix"),
                ],
                core::apigateway_aws_proxy
            ),
            ev!(
                "http-api-proxy",
                "Generates an API Gateway HTTP API event (payload format 2.0)",
                &[
                    flag("body", "{\"test\":\"body\"}", "request body"),
                    flag("base64", "true", "pass the body base64-encoded (true/false)"),
                    flag("stage", "$default", "stage name"),
                    flag("method", "POST", "HTTP method"),
                    flag("path", "path/to/resource", "request path, without the stage"),
                    flag("query-string", "parameter1=value1&parameter1=value2&parameter2=value", "raw query string"),
                    ACCOUNT_ID,
                    flag("dns-suffix", "us-east-1.amazonaws.com", "API DNS suffix"),
                ],
                core::apigateway_http_api_proxy
            ),
            ev!(
                "request-authorizer",
                "Generates an API Gateway REQUEST authorizer event",
                &[
                    ACCOUNT_ID,
                    PARTITION,
                    REGION,
                    flag("stage", "test", "stage name"),
                    flag("method", "GET", "HTTP method"),
                    flag("resource", "request", "resource path"),
                    Flag { aliases: &["restApiId"], ..flag("rest-api-id", "abcdef123", "REST API id") },
                ],
                core::apigateway_request_authorizer
            ),
        ],
    },
    Service {
        name: "appsync",
        help: "AWS AppSync",
        events: &[ev!("resolver", "Generates an AWS AppSync direct Lambda resolver event", &[], misc::appsync_resolver)],
    },
    Service {
        name: "batch",
        help: "AWS Batch",
        events: &[
            ev!("get-job", "Generates an AWS Batch get-job event", &[], misc::batch_get_job),
            ev!("submit-job", "Generates an AWS Batch submit-job event", &[], misc::batch_submit_job),
        ],
    },
    Service {
        name: "cloudformation",
        help: "AWS CloudFormation",
        events: &[ev!(
            "create-request",
            "Generates an AWS CloudFormation custom resource Create request",
            &[ACCOUNT_ID, PARTITION, REGION, flag("stack", "MyStack", "stack name")],
            misc::cloudformation_create_request
        )],
    },
    Service {
        name: "cloudfront",
        help: "Amazon CloudFront (Lambda@Edge)",
        events: &[
            ev!("ab-test", "Generates a Lambda@Edge viewer request for an A/B test", CLOUDFRONT_FLAGS, misc::cloudfront_ab_test),
            ev!("access-request-in-response", "Generates a Lambda@Edge response event that reads the request", CLOUDFRONT_FLAGS, misc::cloudfront_access_request_in_response),
            ev!("http-redirect", "Generates a Lambda@Edge viewer request for an HTTP redirect", CLOUDFRONT_FLAGS, misc::cloudfront_http_redirect),
            ev!("modify-querystring", "Generates a Lambda@Edge viewer request with a query string to modify", CLOUDFRONT_FLAGS, misc::cloudfront_modify_querystring),
            ev!("modify-response-header", "Generates a Lambda@Edge origin response whose headers to modify", &[], misc::cloudfront_modify_response_header),
            ev!("multiple-remote-calls-aggregate-response", "Generates a Lambda@Edge viewer request that aggregates remote calls", &[flag("uri", "/forecast/Seattle:NewYork:Chicago:SanFrancisco", "request URI"), flag("method", "GET", "HTTP method")], misc::cloudfront_multiple_remote_calls),
            ev!("normalize-querystring-to-improve-cache-hit", "Generates a Lambda@Edge viewer request with a query string to normalize", CLOUDFRONT_FLAGS, misc::cloudfront_normalize_querystring),
            ev!("redirect-on-viewer-country", "Generates a Lambda@Edge origin request with the viewer's country", CLOUDFRONT_FLAGS, misc::cloudfront_redirect_on_viewer_country),
            ev!("redirect-unauthenticated-users", "Generates a Lambda@Edge viewer request without credentials", CLOUDFRONT_FLAGS, misc::cloudfront_redirect_unauthenticated),
            ev!("response-generation", "Generates a Lambda@Edge viewer request answered by the function", CLOUDFRONT_FLAGS, misc::cloudfront_response_generation),
            ev!("serve-object-on-viewer-device", "Generates a Lambda@Edge origin request with device headers", CLOUDFRONT_FLAGS, misc::cloudfront_serve_object_on_viewer_device),
            ev!("simple-remote-call", "Generates a Lambda@Edge viewer request that makes a remote call", CLOUDFRONT_FLAGS, misc::cloudfront_simple_remote_call),
        ],
    },
    Service {
        name: "cloudwatch",
        help: "Amazon CloudWatch (Logs subscriptions, Events schedules)",
        events: &[
            ev!(
                "logs",
                "Generates a CloudWatch Logs subscription event (gzip + base64 computed)",
                &[
                    ACCOUNT_ID,
                    flag("log-group", "/aws/lambda/example", "log group name"),
                    flag("log-stream", "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef", "log stream name"),
                    flag("message", "[ERROR] First test message", "the log event's message"),
                ],
                misc::cloudwatch_logs
            ),
            ev!(
                "scheduled-event",
                "Generates a CloudWatch Events (EventBridge) scheduled event",
                &[ACCOUNT_ID, PARTITION, REGION, flag("rule", "ExampleRule", "rule name")],
                core::scheduled_event
            ),
        ],
    },
    Service {
        name: "codecommit",
        help: "AWS CodeCommit",
        events: &[ev!(
            "repository",
            "Generates an AWS CodeCommit repository trigger event",
            &[
                ACCOUNT_ID,
                PARTITION,
                REGION,
                flag("repository", "my-repo", "repository name"),
                flag("branch", "main", "branch that was pushed"),
                flag("commit", "5c4ef1049f1d27deadbeeff313e0730018be182b", "commit id"),
                flag("trigger", "my-trigger", "trigger name"),
                flag("custom-data", "this is custom data", "the trigger's custom data"),
            ],
            misc::codecommit_repository
        )],
    },
    Service {
        name: "codepipeline",
        help: "AWS CodePipeline",
        events: &[ev!(
            "job",
            "Generates an AWS CodePipeline job event",
            &[
                ACCOUNT_ID,
                flag("input-bucket", "example-bucket", "input artifact bucket"),
                flag("input-key", "test/key", "input artifact key"),
                flag("output-bucket", "example-bucket2", "output artifact bucket"),
                flag("output-key", "test/key2", "output artifact key"),
                flag("user-parameters", "user-parameter-string", "the action's UserParameters"),
            ],
            misc::codepipeline_job
        )],
    },
    Service {
        name: "cognito",
        help: "Amazon Cognito",
        events: &[ev!("sync-trigger", "Generates an Amazon Cognito Sync trigger event", &[REGION], misc::cognito_sync_trigger)],
    },
    Service {
        name: "config",
        help: "AWS Config",
        events: &[
            ev!("item-change-notification", "Generates an AWS Config configuration item change event", CONFIG_FLAGS, misc::config_item_change),
            ev!("oversized-item-change-notification", "Generates an AWS Config oversized configuration item change event", CONFIG_FLAGS, misc::config_oversized_item_change),
            ev!("periodic-rule", "Generates an AWS Config periodic rule event", CONFIG_FLAGS, misc::config_periodic_rule),
        ],
    },
    Service {
        name: "connect",
        help: "Amazon Connect",
        events: &[ev!(
            "contact-flow-event",
            "Generates an Amazon Connect contact flow event",
            &[
                REGION,
                PARTITION,
                ACCOUNT_ID,
                flag("contact-id", "5ca32fbd-8f92-46af-92a5-6b0f970f0efe", "contact id"),
                flag("phone-number", "+11234567890", "customer phone number"),
            ],
            misc::connect_contact_flow
        )],
    },
    Service {
        name: "dynamodb",
        help: "Amazon DynamoDB Streams",
        events: &[ev!(
            "update",
            "Generates a DynamoDB stream event (INSERT, MODIFY, REMOVE)",
            &[ACCOUNT_ID, PARTITION, REGION, flag("table", "ExampleTableWithStream", "table name")],
            core::dynamodb_update
        )],
    },
    Service {
        name: "eventbridge",
        help: "Amazon EventBridge (ssam addition)",
        events: &[
            ev!(
                "custom",
                "Generates an EventBridge event as PutEvents delivers it",
                &[
                    flag("source", "com.example.app", "event source"),
                    flag("detail-type", "ExampleEvent", "detail-type"),
                    flag("detail", "{\"key\": \"value\"}", "detail, a JSON object"),
                    flag("resources", "", "comma-separated resource ARNs"),
                    ACCOUNT_ID,
                    REGION,
                ],
                core::eventbridge_custom
            ),
            ev!(
                "scheduled-event",
                "Generates an EventBridge scheduled event (same as cloudwatch scheduled-event)",
                &[ACCOUNT_ID, PARTITION, REGION, flag("rule", "ExampleRule", "rule name")],
                core::scheduled_event
            ),
        ],
    },
    Service {
        name: "kinesis",
        help: "Amazon Kinesis (Data Streams, Firehose, Data Analytics)",
        events: &[
            ev!("analytics", "Generates a Kinesis Data Analytics preprocessing event", &ANALYTICS, misc::kinesis_analytics),
            ev!("analytics-compressed", "Generates a Kinesis Data Analytics event with gzip-compressed data", &ANALYTICS_COMPRESSED, misc::kinesis_analytics_compressed),
            ev!("analytics-dynamodb", "Generates a Kinesis Data Analytics event with a DynamoDB-bound record", &ANALYTICS_DYNAMODB, misc::kinesis_analytics),
            ev!("analytics-kpl", "Generates a Kinesis Data Analytics event from a stream with record metadata", &ANALYTICS_FLAGS_BASE, misc::kinesis_analytics_kpl),
            ev!("apachelog", "Generates a Kinesis Data Firehose event carrying an Apache log line", &[REGION, flag("data", "64.242.88.10 - - [07/Mar/2004:16:10:02 -0800] \"GET /mailman/listinfo/hsdivision HTTP/1.1\" 200 6291", "log line (base64-encoded for you)")], misc::firehose_apachelog),
            ev!("cloudwatch-logs-processor", "Generates a Kinesis Data Firehose event carrying CloudWatch Logs data", &[REGION, PARTITION, ACCOUNT_ID], misc::firehose_cloudwatch_logs),
            ev!(
                "get-records",
                "Generates a Kinesis Data Streams event",
                &[
                    REGION,
                    PARTITION,
                    ACCOUNT_ID,
                    flag("stream", "example-stream", "stream name"),
                    flag("sequence", "49545115243490985018280067714973144582180062593244200961", "sequence number"),
                    flag("data", "Hello, this is a test 123.", "record data as text (base64-encoded for you)"),
                    flag("partition-key", "partitionKey-03", "partition key"),
                ],
                core::kinesis_get_records
            ),
            ev!("kinesis-firehose", "Generates a Kinesis Data Firehose transformation event", &[PARTITION, REGION, ACCOUNT_ID, flag("delivery-stream", "example-delivery-stream", "delivery stream name"), flag("data", "Hello, this is a test 123.", "record data as text (base64-encoded for you)")], misc::firehose),
            ev!(
                "streams-as-source",
                "Generates a Kinesis Data Firehose event whose source is a Kinesis stream",
                &[
                    PARTITION,
                    REGION,
                    ACCOUNT_ID,
                    flag("partition-key", "partitionKey-03", "partition key"),
                    flag("data", "Hello, this is a test 123.", "record data as text (base64-encoded for you)"),
                    flag("sequence", "49545115243490985018280067714973144582180062593244200961", "sequence number"),
                ],
                misc::firehose_streams_as_source
            ),
            ev!("syslog", "Generates a Kinesis Data Firehose event carrying syslog lines", &[REGION, flag("data", "<34>1 2026-01-01T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8", "syslog line (base64-encoded for you)")], misc::firehose_syslog),
        ],
    },
    Service {
        name: "lambda",
        help: "AWS Lambda (ssam addition)",
        events: &[ev!(
            "function-url",
            "Generates a Lambda function URL event (payload format 2.0)",
            &[
                flag("body", "{\"test\":\"body\"}", "request body"),
                flag("base64", "false", "pass the body base64-encoded (true/false)"),
                flag("method", "POST", "HTTP method"),
                flag("path", "path/to/resource", "request path"),
                flag("query-string", "parameter1=value1&parameter1=value2&parameter2=value", "raw query string"),
                flag("url-id", "abcdefghijklmnopqrstuvwxyz0123456", "function URL id"),
                ACCOUNT_ID,
                REGION,
            ],
            core::lambda_function_url
        )],
    },
    Service {
        name: "lex",
        help: "Amazon Lex V1",
        events: &[
            ev!("book-car", "Generates an Amazon Lex V1 BookCar dialog event", &[], misc::lex_book_car),
            ev!("book-hotel", "Generates an Amazon Lex V1 BookHotel dialog event", &[], misc::lex_book_hotel),
            ev!("make-appointment", "Generates an Amazon Lex V1 MakeAppointment dialog event", &[], misc::lex_make_appointment),
            ev!("order-flowers", "Generates an Amazon Lex V1 OrderFlowers dialog event", &[], misc::lex_order_flowers),
        ],
    },
    Service {
        name: "lex-v2",
        help: "Amazon Lex V2",
        events: &[
            ev!("banking-bot", "Generates an Amazon Lex V2 CheckBalance fulfillment event", &[], misc::lexv2_banking_bot),
            ev!("book-car", "Generates an Amazon Lex V2 BookCar dialog event", &[], misc::lexv2_book_car),
            ev!("book-hotel", "Generates an Amazon Lex V2 BookHotel dialog event", &[], misc::lexv2_book_hotel),
        ],
    },
    Service {
        name: "rekognition",
        help: "Amazon Rekognition",
        events: &[ev!(
            "s3-request",
            "Generates the S3 event a Rekognition function receives for a new image",
            &[REGION, PARTITION, flag("bucket", "example-bucket", "bucket name"), flag("key", "test/key", "object key (URL-encoded for you)")],
            core::s3_put
        )],
    },
    Service {
        name: "s3",
        help: "Amazon S3",
        events: &[
            ev!(
                "batch-invocation",
                "Generates an S3 Batch Operations invocation event",
                &[
                    flag("bucket-arn", "arn:aws:s3:::examplebucket", "bucket ARN"),
                    flag("key", "test/key", "object key (URL-encoded for you)"),
                    flag("version-id", "1", "object version id (empty for none)"),
                ],
                core::s3_batch_invocation
            ),
            ev!("delete", "Generates an S3 ObjectRemoved:Delete event", S3_FLAGS_DELETE, core::s3_delete),
            ev!("put", "Generates an S3 ObjectCreated:Put event", S3_FLAGS_PUT, core::s3_put),
        ],
    },
    Service {
        name: "sagemaker",
        help: "Amazon SageMaker Ground Truth",
        events: &[
            ev!(
                "ground-truth-annotation-consolidation",
                "Generates a SageMaker Ground Truth annotation consolidation request",
                &[
                    REGION,
                    PARTITION,
                    ACCOUNT_ID,
                    flag("labeling-job-name", "example-job", "labeling job name"),
                    flag("label-attribute-name", "example-attribute", "label attribute name"),
                    flag("s3-output-path", "s3://sagemakerexample/output", "job output path"),
                    flag("execution-role", "sagemaker-role", "execution role name"),
                    flag("iteration-object-timestamp", "iteration-1/0/2019-09-06_18:35:03", "iteration object"),
                ],
                misc::sagemaker_annotation_consolidation
            ),
            ev!(
                "ground-truth-pre-human",
                "Generates a SageMaker Ground Truth pre-human task request",
                &[
                    REGION,
                    PARTITION,
                    ACCOUNT_ID,
                    flag("source-ref", "s3://sagemakerexample/object_to_annotate.jpg", "object to label"),
                    flag("labeling-job-name", "example-job", "labeling job name"),
                ],
                misc::sagemaker_pre_human
            ),
        ],
    },
    Service {
        name: "ses",
        help: "Amazon SES",
        events: &[ev!(
            "email-receiving",
            "Generates an Amazon SES email receiving event",
            &[REGION, PARTITION, ACCOUNT_ID, flag("dns-suffix", "us-east-1.amazonaws.com", "SES DNS suffix")],
            misc::ses_email_receiving
        )],
    },
    Service {
        name: "sns",
        help: "Amazon SNS",
        events: &[ev!(
            "notification",
            "Generates an Amazon SNS notification event",
            &[
                ACCOUNT_ID,
                PARTITION,
                REGION,
                flag("topic", "ExampleTopic", "topic name"),
                flag("subject", "example subject", "message subject (empty for none)"),
                flag("message", "example message", "message body"),
            ],
            core::sns_notification
        )],
    },
    Service {
        name: "sqs",
        help: "Amazon SQS",
        events: &[ev!(
            "receive-message",
            "Generates an Amazon SQS event (md5OfBody computed)",
            &[
                PARTITION,
                REGION,
                ACCOUNT_ID,
                flag("queue-name", "MyQueue", "queue name"),
                flag("body", "Hello from SQS!", "message body"),
            ],
            core::sqs_receive_message
        )],
    },
    Service {
        name: "stepfunctions",
        help: "AWS Step Functions",
        events: &[ev!(
            "error",
            "Generates an AWS Step Functions error (Catch) input",
            &[flag("error", "ErrorName", "error name"), flag("cause", "This is the cause of the error.", "error cause")],
            misc::stepfunctions_error
        )],
    },
    Service {
        name: "workmail",
        help: "Amazon WorkMail",
        events: &[ev!(
            "email",
            "Generates an Amazon WorkMail email flow event",
            &[
                flag("flow-direction", "INBOUND", "INBOUND or OUTBOUND"),
                flag("mail-from", "from@example.com", "envelope sender"),
                flag("sender", "sender@example.com", "sender header"),
            ],
            misc::workmail_email
        )],
    },
];

const S3_FLAGS_PUT: &[Flag] = &[
    REGION,
    PARTITION,
    flag("bucket", "example-bucket", "bucket name"),
    flag("key", "test/key", "object key (URL-encoded for you)"),
    flag("size", "1024", "object size in bytes"),
    flag("etag", "0123456789abcdef0123456789abcdef", "object ETag"),
    flag(
        "version-id",
        "",
        "object version id (empty for an unversioned bucket)",
    ),
    flag(
        "event-version",
        "2.0",
        "eventVersion (SAM and Lambda's docs show 2.0, S3 sends 2.1)",
    ),
];

const S3_FLAGS_DELETE: &[Flag] = &[
    REGION,
    PARTITION,
    flag("bucket", "example-bucket", "bucket name"),
    flag("key", "test/key", "object key (URL-encoded for you)"),
    flag(
        "version-id",
        "",
        "object version id (empty for an unversioned bucket)",
    ),
    flag(
        "event-version",
        "2.0",
        "eventVersion (SAM and Lambda's docs show 2.0, S3 sends 2.1)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_sam_counts_are_covered() {
        let mut services = HashSet::new();
        let mut events = 0;
        for s in SERVICES {
            assert!(services.insert(s.name), "duplicate service {}", s.name);
            let mut names = HashSet::new();
            for e in s.events {
                assert!(
                    names.insert(e.name),
                    "duplicate event {} {}",
                    s.name,
                    e.name
                );
                let mut flags = HashSet::new();
                for f in e.flags {
                    assert!(
                        flags.insert(f.name),
                        "duplicate flag {} {} --{}",
                        s.name,
                        e.name,
                        f.name
                    );
                }
                events += 1;
            }
        }
        // SAM CLI: 26 services, 68 events; ssam adds eventbridge (2) and lambda (1).
        assert_eq!(services.len(), 28);
        assert_eq!(events, 71);
    }
}
