"""ThumbnailGenerator: runs on s3:ObjectCreated:* for *.mp4 and writes a thumbnail next to it.

The thumbnail is a real frame of the uploaded video, a PNG made by ffmpeg. ffmpeg comes
from the `imageio-ffmpeg` wheel (requirements.txt), which ships the binary: as a Zip
function ssam installs it from the manifest (no build step), as the Image function the
Dockerfile's `pip install` puts it in the image.
"""
import os
import subprocess
import tempfile
import urllib.parse

import boto3
import imageio_ffmpeg

THUMBNAIL_WIDTH = int(os.environ.get("THUMBNAIL_WIDTH", "160"))


def frame_of(video_path, png_path, at_seconds=0.0):
    """Writes the frame at `at_seconds` of the video as a PNG `THUMBNAIL_WIDTH` pixels wide."""
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-loglevel", "error",
        "-ss", str(at_seconds),
        "-i", video_path,
        "-frames:v", "1",
        "-vf", f"scale={THUMBNAIL_WIDTH}:-2",
        "-y", png_path,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or not os.path.exists(png_path):
        raise ValueError(f"ffmpeg could not read a frame: {done.stderr.strip()[-500:]}")


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
        # Lambda's only writable directory is /tmp.
        with tempfile.TemporaryDirectory(dir="/tmp") as work:
            video = os.path.join(work, "video.mp4")
            png = os.path.join(work, "thumbnail.png")
            s3.download_file(bucket, key, video)
            frame_of(video, png)
            out_key = f"{prefix}{key.rsplit('.', 1)[0]}.png"
            with open(png, "rb") as f:
                s3.put_object(Bucket=bucket, Key=out_key, Body=f.read(), ContentType="image/png")
        print(f"thumbnail s3://{bucket}/{out_key} for s3://{bucket}/{key}")
        written.append(out_key)
    return {"thumbnails": written}
