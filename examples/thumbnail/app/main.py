"""ThumbnailGenerator: runs on s3:ObjectCreated:* for *.mp4 and writes a thumbnail next to it.

A real deployment would call ffmpeg for a video frame; this example renders a small PNG
from the object's digest with the standard library, so it runs anywhere (natively, or in
the Lambda base image) and its output is easy to check.
"""
import hashlib
import os
import struct
import urllib.parse
import zlib

import boto3


def _png(width, height, rgb):
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def lambda_handler(event, context):
    s3 = boto3.client("s3")
    prefix = os.environ.get("THUMBNAIL_PREFIX", "thumbnails/")
    written = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        # S3 URL-encodes keys in event records (spaces become '+').
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        if key.startswith(prefix):
            continue  # never react to our own output (that would be a recursive loop)
        head = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-65535")["Body"].read()
        digest = hashlib.sha256(head).digest()
        out_key = f"{prefix}{key.rsplit('.', 1)[0]}.png"
        s3.put_object(Bucket=bucket, Key=out_key, Body=_png(64, 36, digest[:3]), ContentType="image/png")
        print(f"thumbnail s3://{bucket}/{out_key} for s3://{bucket}/{key}")
        written.append(out_key)
    return {"thumbnails": written}
