//! Object tagging and object ACLs.

use super::*;

pub(super) fn set_tags(
    bucket: &store::Bucket,
    key: &str,
    vid: Option<&str>,
    tags: Vec<(String, String)>,
) -> S3Result<Option<String>> {
    let mut st = bucket.lock().map_err(internal)?;
    let mut v = find_version(&st, key, vid)?;
    v.tags = tags;
    let id = v.id.clone();
    let versioning = st.config.versioning;
    bucket
        .commit(
            &mut st,
            vec![Record::Put {
                key: key.to_owned(),
                v: Box::new(v),
                in_place: true,
                data_follows: false,
                crc: None,
                data: None,
            }],
        )
        .map_err(internal)?;
    Ok(version_header(versioning, &id))
}

impl Service {
    pub(super) async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let (v, versioning) = {
            let st = bucket.lock().map_err(internal)?;
            (
                find_version(&st, &req.input.key, req.input.version_id.as_deref())?,
                st.config.versioning,
            )
        };
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
        {
            let st = bucket.lock().map_err(internal)?;
            find_version(&st, &req.input.key, req.input.version_id.as_deref())?;
        }
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
            let mut st = bucket.lock().map_err(internal)?;
            let mut v = find_version(&st, &key, vid.as_deref())?;
            if acl.is_some() {
                v.meta.acl = acl;
                bucket
                    .commit(
                        &mut st,
                        vec![Record::Put {
                            key,
                            v: Box::new(v),
                            in_place: true,
                            data_follows: false,
                            crc: None,
                            data: None,
                        }],
                    )
                    .map_err(internal)?;
            }
            Ok(())
        })
        .await?;
        Ok(S3Response::new(PutObjectAclOutput::default()))
    }
}
