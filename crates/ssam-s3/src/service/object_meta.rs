//! Object tagging and object ACLs.

use super::*;

/// Replaces the tags of the version a read of `key` gets; answers its version header.
fn set_tags(
    bucket: &store::Bucket,
    key: &str,
    vid: Option<&str>,
    tags: Vec<(String, String)>,
) -> S3Result<Option<String>> {
    let id = parse_version_id(vid)?;
    let found = bucket.update_version(key, id.as_ref(), |v| v.tags = tags)?;
    Ok(found.version_header())
}

impl Service {
    pub(super) async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let found = bucket.find(
            &req.input.key,
            parse_version_id(req.input.version_id.as_deref())?.as_ref(),
        )?;
        let (v, versioning) = (found.version, found.versioning);
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set: tags_to_dto(&v.tags),
            version_id: version_header(versioning, &v.id),
        }))
    }

    pub(super) async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let tags = tags_from_dto(req.input.tagging.tag_set.clone());
        validate_tags(&tags)?;
        let (key, vid) = (req.input.key.clone(), req.input.version_id.clone());
        let id = blocking(move || set_tags(&bucket, &key, vid.as_deref(), tags)).await?;
        Ok(S3Response::new(PutObjectTaggingOutput { version_id: id }))
    }

    pub(super) async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let (key, vid) = (req.input.key.clone(), req.input.version_id.clone());
        let id = blocking(move || set_tags(&bucket, &key, vid.as_deref(), Vec::new())).await?;
        Ok(S3Response::new(DeleteObjectTaggingOutput {
            version_id: id,
        }))
    }

    pub(super) async fn get_object_acl(
        &self,
        req: S3Request<GetObjectAclInput>,
    ) -> S3Result<S3Response<GetObjectAclOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let vid = parse_version_id(req.input.version_id.as_deref())?;
        bucket.find(&req.input.key, vid.as_ref())?;
        Ok(S3Response::new(GetObjectAclOutput {
            owner: Some(owner()),
            grants: Some(vec![full_control()]),
            ..Default::default()
        }))
    }

    pub(super) async fn put_object_acl(
        &self,
        req: S3Request<PutObjectAclInput>,
    ) -> S3Result<S3Response<PutObjectAclOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let (key, vid) = (req.input.key.clone(), req.input.version_id.clone());
        let acl = req.input.acl.as_ref().map(|a| a.as_str().to_owned());
        blocking(move || {
            let vid = parse_version_id(vid.as_deref())?;
            // Canned ACLs are kept (they decide anonymous reads); grants are ignored.
            match acl {
                Some(acl) => {
                    bucket.update_version(&key, vid.as_ref(), |v| v.meta.acl = Some(acl))?
                }
                None => bucket.find(&key, vid.as_ref())?,
            };
            Ok(())
        })
        .await?;
        Ok(S3Response::new(PutObjectAclOutput::default()))
    }
}
