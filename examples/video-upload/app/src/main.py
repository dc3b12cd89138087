"""VideoUploader: hands out a presigned S3 PUT URL so the client uploads the video directly.

Uploading through API Gateway and Lambda fails above 6 MB (Lambda's synchronous payload
limit, and binary bodies grow by a third when API Gateway base64-encodes them).
"""
import json
import os
import uuid

import boto3


def lambda_handler(event, context):
    bucket = os.environ["UPLOAD_BUCKET"]
    expires = int(os.environ.get("URL_EXPIRES_SECONDS", "300"))
    params = event.get("queryStringParameters") or {}
    key = params.get("key") or f"uploads/{uuid.uuid4()}.mp4"
    s3 = boto3.client("s3")
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": key},
        ExpiresIn=expires,
    )
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"uploadUrl": url, "bucket": bucket, "key": key, "expiresIn": expires}),
    }
