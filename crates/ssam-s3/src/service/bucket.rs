//! Buckets: create, head, list, delete, location, versioning, policy and notification
//! configuration (kept as the XML S3 took in).

use super::*;

impl Service {
    pub(super) async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let input = req.input;
        let region = match input
            .create_bucket_configuration
            .and_then(|c| c.location_constraint)
        {
            Some(lc) => {
                let lc = lc.as_str().to_owned();
                if lc == "us-east-1" {
                    return Err(s3_error!(
                        InvalidLocationConstraint,
                        "The specified location-constraint is not valid"
                    ));
                }
                lc
            }
            None => self.region.clone(),
        };
        // us-east-1 answers a re-create of your own bucket with 200 (other regions: 409).
        if region == "us-east-1" && self.store.bucket(&input.bucket).is_ok() {
            return Ok(S3Response::new(CreateBucketOutput {
                location: Some(format!("/{}", input.bucket)),
            }));
        }
        let versioning = if input.object_lock_enabled_for_bucket == Some(true) {
            Versioning::Enabled
        } else {
            Versioning::Unversioned
        };
        let config = BucketConfig {
            created_ms: store::now_ms(),
            region,
            versioning,
            acl: input.acl.as_ref().map(|a| a.as_str().to_owned()),
            ..Default::default()
        };
        let store = Arc::clone(&self.store);
        let name = input.bucket.clone();
        blocking(move || {
            store
                .create_bucket(&name, config)
                .map(|_| ())
                .map_err(S3Error::from)
        })
        .await?;
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{}", input.bucket)),
        }))
    }

    pub(super) async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let region = b.config()?.region;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(region),
            ..Default::default()
        }))
    }

    pub(super) async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let max = input
            .max_buckets
            .map_or(10_000, |m| usize::try_from(m).unwrap_or(10_000));
        let mut buckets = Vec::new();
        let mut next = None;
        for (name, cfg) in self.store.list_buckets() {
            if !name.starts_with(&prefix)
                || input
                    .continuation_token
                    .as_ref()
                    .is_some_and(|t| name.as_str() <= t.as_str())
            {
                continue;
            }
            if buckets.len() == max {
                next = buckets.last().and_then(|b: &Bucket| b.name.clone());
                break;
            }
            buckets.push(Bucket {
                name: Some(name),
                creation_date: Some(ts(cfg.created_ms)),
                bucket_region: Some(cfg.region),
            });
        }
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(owner()),
            prefix: input.prefix,
            continuation_token: next,
        }))
    }

    pub(super) async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let store = Arc::clone(&self.store);
        let name = req.input.bucket;
        blocking(move || store.delete_bucket(&name).map_err(S3Error::from)).await?;
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    pub(super) async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let region = b.config()?.region;
        // us-east-1 is the one region S3 reports as an empty constraint.
        let lc = (region != "us-east-1" && !region.is_empty())
            .then(|| BucketLocationConstraint::from(region));
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: lc,
        }))
    }

    pub(super) async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let v = b.config()?.versioning;
        let status = match v {
            Versioning::Unversioned => None,
            Versioning::Enabled => Some(BucketVersioningStatus::from_static(
                BucketVersioningStatus::ENABLED,
            )),
            Versioning::Suspended => Some(BucketVersioningStatus::from_static(
                BucketVersioningStatus::SUSPENDED,
            )),
        };
        Ok(S3Response::new(GetBucketVersioningOutput {
            status,
            mfa_delete: None,
        }))
    }

    pub(super) async fn put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let new = match req.input.versioning_configuration.status.as_ref().map(BucketVersioningStatus::as_str) {
            Some("Enabled") => Versioning::Enabled,
            Some("Suspended") => Versioning::Suspended,
            _ => return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")),
        };
        update_config(b, move |c| c.versioning = new).await?;
        Ok(S3Response::new(PutBucketVersioningOutput {}))
    }

    pub(super) async fn put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let xml = to_xml(&req.input.notification_configuration)?;
        update_config(b, move |c| c.notification_xml = Some(xml)).await?;
        Ok(S3Response::new(PutBucketNotificationConfigurationOutput {}))
    }

    pub(super) async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let xml = b.config()?.notification_xml;
        let cfg: NotificationConfiguration = match xml {
            Some(x) => from_xml(&x)?,
            None => NotificationConfiguration::default(),
        };
        Ok(S3Response::new(GetBucketNotificationConfigurationOutput {
            event_bridge_configuration: cfg.event_bridge_configuration,
            lambda_function_configurations: cfg.lambda_function_configurations,
            queue_configurations: cfg.queue_configurations,
            topic_configurations: cfg.topic_configurations,
        }))
    }

    pub(super) async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let p = b.config()?.policy;
        match p {
            Some(policy) => Ok(S3Response::new(GetBucketPolicyOutput {
                policy: Some(policy),
            })),
            None => Err(s3_error!(
                NoSuchBucketPolicy,
                "The bucket policy does not exist"
            )),
        }
    }

    pub(super) async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let policy = req.input.policy;
        update_config(b, move |c| c.policy = Some(policy)).await?;
        Ok(S3Response::new(PutBucketPolicyOutput {}))
    }

    pub(super) async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        update_config(b, move |c| c.policy = None).await?;
        Ok(S3Response::new(DeleteBucketPolicyOutput {}))
    }
}
