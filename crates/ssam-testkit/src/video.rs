//! Real videos for the thumbnail tests, made with the ffmpeg that the `imageio-ffmpeg`
//! wheel ships (the same dependency the example function uses), and a check that a
//! thumbnail is a real frame of them.

use std::path::Path;

/// Writes an MP4 of `seconds` seconds of one solid colour (`red`, `blue`, ... or `0xRRGGBB`),
/// 320x240. With `pad_to`, the file is grown to that many bytes with an MP4 `free` box
/// (ISO/IEC 14496-12 §8.1.2: readers skip it), so a test can upload a large but valid video.
pub fn solid_color_mp4(path: &Path, color: &str, seconds: u32, pad_to: Option<usize>) {
    let script = format!(
        r#"
import subprocess, imageio_ffmpeg
subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", "color=c={color}:size=320x240:rate=10:duration={seconds}",
    "-pix_fmt", "yuv420p", "-c:v", "mpeg4", r"{path}"], check=True)
"#,
        path = path.display()
    );
    crate::run_python(&script, &[]);
    if let Some(size) = pad_to {
        let mut bytes = std::fs::read(path).expect("read the video");
        if size > bytes.len() + 8 {
            let pad = size - bytes.len();
            let header = u32::try_from(pad).expect("a free box under 4 GB");
            bytes.extend_from_slice(&header.to_be_bytes());
            bytes.extend_from_slice(b"free");
            bytes.resize(size, 0);
            std::fs::write(path, bytes).expect("write the padded video");
        }
    }
}

/// Width, height and the RGB colour of the centre pixel of a PNG, decoded with the same
/// ffmpeg (so the check needs no image library).
pub fn png_probe(png: &[u8]) -> (u32, u32, [u8; 3]) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("probe.png");
    std::fs::write(&file, png).expect("write the png");
    let script = format!(
        r#"
import subprocess, re, imageio_ffmpeg
ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
info = subprocess.run([ffmpeg, "-hide_banner", "-i", r"{file}"], capture_output=True, text=True).stderr
w, h = map(int, re.search(r", (\d+)x(\d+)", info).groups())
raw = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-i", r"{file}",
    "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
i = ((h // 2) * w + w // 2) * 3
print(w, h, raw[i], raw[i + 1], raw[i + 2])
"#,
        file = file.display()
    );
    let out = crate::run_python(&script, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    let n: Vec<u32> = text
        .split_whitespace()
        .map(|w| w.parse().expect("a number"))
        .collect();
    let byte = |i: usize| u8::try_from(n[i]).expect("a byte");
    (n[0], n[1], [byte(2), byte(3), byte(4)])
}
