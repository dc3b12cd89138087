//! Bucket CORS, tagging and ACL.

use super::*;

pub(super) fn cors_config_from_xml(xml: &str) -> Option<CORSConfiguration> {
    let mut d = s3s::xml::Deserializer::new(xml.as_bytes());
    <CORSConfiguration as s3s::xml::Deserialize>::deserialize(&mut d).ok()
}

pub(super) fn validate_tags_bucket(tags: &[(String, String)]) -> S3Result<()> {
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(s3_error!(
                InvalidTag,
                "The TagKey or TagValue you have provided is invalid"
            ));
        }
    }
    Ok(())
}

impl Service {
    pub(super) async fn put_bucket_cors(
        &self,
        req: S3Request<PutBucketCorsInput>,
    ) -> S3Result<S3Response<PutBucketCorsOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let xml = to_xml(&req.input.cors_configuration)?;
        update_config(b, move |c| c.cors_xml = Some(xml)).await?;
        Ok(S3Response::new(PutBucketCorsOutput {}))
    }

    pub(super) async fn get_bucket_cors(
        &self,
        req: S3Request<GetBucketCorsInput>,
    ) -> S3Result<S3Response<GetBucketCorsOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let xml = b.config()?.cors_xml;
        let cfg = xml
            .as_deref()
            .and_then(cors_config_from_xml)
            .ok_or_else(|| {
                s3_error!(
                    NoSuchCORSConfiguration,
                    "The CORS configuration does not exist"
                )
            })?;
        Ok(S3Response::new(GetBucketCorsOutput {
            cors_rules: Some(cfg.cors_rules),
        }))
    }

    pub(super) async fn delete_bucket_cors(
        &self,
        req: S3Request<DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        update_config(b, move |c| c.cors_xml = None).await?;
        Ok(S3Response::new(DeleteBucketCorsOutput {}))
    }

    pub(super) async fn put_bucket_tagging(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let tags = tags_from_dto(req.input.tagging.tag_set.clone());
        if tags.len() > 50 {
            return Err(s3_error!(
                InvalidTag,
                "Bucket tag count cannot be greater than 50"
            ));
        }
        validate_tags_bucket(&tags)?;
        let xml = to_xml(&req.input.tagging)?;
        update_config(b, move |c| c.tagging_xml = Some(xml)).await?;
        Ok(S3Response::new(PutBucketTaggingOutput {}))
    }

    pub(super) async fn get_bucket_tagging(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let xml = b.config()?.tagging_xml;
        let Some(xml) = xml else {
            return Err(s3_error!(NoSuchTagSet, "The TagSet does not exist"));
        };
        let t: Tagging = from_xml(&xml)?;
        Ok(S3Response::new(GetBucketTaggingOutput {
            tag_set: t.tag_set,
        }))
    }

    pub(super) async fn delete_bucket_tagging(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        update_config(b, move |c| c.tagging_xml = None).await?;
        Ok(S3Response::new(DeleteBucketTaggingOutput {}))
    }

    pub(super) async fn get_bucket_acl(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> S3Result<S3Response<GetBucketAclOutput>> {
        self.store.bucket(&req.input.bucket)?;
        Ok(S3Response::new(GetBucketAclOutput {
            owner: Some(owner()),
            grants: Some(vec![full_control()]),
        }))
    }

    pub(super) async fn put_bucket_acl(
        &self,
        req: S3Request<PutBucketAclInput>,
    ) -> S3Result<S3Response<PutBucketAclOutput>> {
        // Canned ACLs are kept: they decide what anonymous requests may do. Grants are
        // accepted and ignored (a local S3 has one user).
        let b = self.store.bucket(&req.input.bucket)?;
        if let Some(acl) = req.input.acl.as_ref().map(|a| a.as_str().to_owned()) {
            update_config(b, move |c| c.acl = Some(acl)).await?;
        }
        Ok(S3Response::new(PutBucketAclOutput {}))
    }
}
