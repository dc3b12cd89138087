//! Reading an image's files without running it: [`Docker::list_dir`] names what a directory
//! of an image holds (an Image function's own `/opt/extensions`, which Lambda starts before
//! the runtime). A container is created from the image, never started, its directory read
//! through the engine's archive endpoint (a tar), and the container removed. Listings are
//! cached per image id and path for the life of the [`Docker`] value, so only the first
//! look at an image costs a container.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::DownloadFromContainerOptionsBuilder;
use futures::StreamExt;

use crate::client::Docker;
use crate::container::{LABEL_MANAGED, LABEL_PID};
use crate::error::DockerError;

/// One entry directly inside a directory of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    pub name: String,
    /// The permission bits (`0o755`).
    pub mode: u32,
    /// A regular file (not a directory, symlink or device).
    pub is_file: bool,
}

impl ImageFile {
    /// A regular file someone may execute (what Lambda starts from `/opt/extensions`).
    pub fn is_executable(&self) -> bool {
        self.is_file && self.mode & 0o111 != 0
    }
}

/// Listings already read, by (image id, directory).
pub(crate) type Listings = Arc<Mutex<HashMap<(String, String), Vec<ImageFile>>>>;

impl Docker {
    /// The entries directly inside the directory `path` of the image `image` (give its id:
    /// the listing is cached under that name, and a tag moves when the image is rebuilt),
    /// sorted by name. A missing directory is an empty list, not an error.
    pub async fn list_dir(&self, image: &str, path: &str) -> Result<Vec<ImageFile>, DockerError> {
        let path = path.trim_end_matches('/');
        let key = (image.to_string(), path.to_string());
        if let Some(cached) = self.listings().get(&key) {
            return Ok(cached.clone());
        }
        let started = std::time::Instant::now();
        let id = self.create_unstarted(image).await?;
        let tar = self.read_archive(&id, path).await;
        if let Err(e) = self.remove_container(&id).await {
            tracing::warn!("cannot remove the container {id} that read {image}: {e}");
        }
        let files = match tar? {
            Some(tar) => entries(&tar, path).map_err(|e| DockerError::Api {
                what: format!("read {path} of {image}"),
                source: BollardError::IOError { err: e },
            })?,
            None => Vec::new(),
        };
        tracing::debug!(%image, %path, entries = files.len(), elapsed = ?started.elapsed(), "listed an image's directory");
        self.listings().insert(key, files.clone());
        Ok(files)
    }

    fn listings(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Vec<ImageFile>>> {
        self.listings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A container of `image` that is never started: no network, a command that is never
    /// run (an image need not have one), labelled as ssam's so an ssam killed meanwhile has
    /// it removed at its next start.
    async fn create_unstarted(&self, image: &str) -> Result<String, DockerError> {
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(vec!["/ssam-never-started".to_string()]),
            cmd: Some(Vec::new()),
            labels: Some(HashMap::from([
                (LABEL_MANAGED.to_string(), "true".to_string()),
                (LABEL_PID.to_string(), std::process::id().to_string()),
            ])),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                network_mode: Some("none".to_string()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = self
            .bollard()
            .create_container(
                None::<bollard::query_parameters::CreateContainerOptions>,
                body,
            )
            .await
            .map_err(|source| DockerError::Api {
                what: format!("create a container of {image} to read its files"),
                source,
            })?;
        Ok(created.id)
    }

    /// `GET /containers/{id}/archive?path=PATH`: the tar of `path`, `None` when it does not
    /// exist.
    async fn read_archive(&self, id: &str, path: &str) -> Result<Option<Vec<u8>>, DockerError> {
        let options = DownloadFromContainerOptionsBuilder::new()
            .path(path)
            .build();
        let mut stream = self.bollard().download_from_container(id, Some(options));
        let mut tar = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => tar.extend_from_slice(&bytes),
                Err(BollardError::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Ok(None),
                Err(source) => {
                    return Err(DockerError::Api {
                        what: format!("read {path} of container {id}"),
                        source,
                    })
                }
            }
        }
        Ok(Some(tar))
    }
}

/// The direct children of `dir` in the engine's tar of it, whose entries are named
/// `<last component of dir>/...`.
fn entries(tar: &[u8], dir: &str) -> std::io::Result<Vec<ImageFile>> {
    let root = dir.rsplit('/').next().unwrap_or(dir);
    let mut files = Vec::new();
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries()? {
        let entry = entry?;
        let path = entry.path()?.into_owned();
        let mut parts = path.components().map(|c| c.as_os_str().to_string_lossy());
        let (Some(top), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if top != root {
            continue;
        }
        let header = entry.header();
        files.push(ImageFile {
            name: name.into_owned(),
            mode: header.mode()? & 0o7777,
            is_file: header.entry_type().is_file(),
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn tar_of(entries: &[(&str, tar::EntryType, u32)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, mode) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_mode(*mode);
            if *kind == tar::EntryType::Symlink {
                header.set_link_name("elsewhere").unwrap();
            }
            let data: &[u8] = if kind.is_file() { b"#!/bin/sh\n" } else { b"" };
            header.set_size(data.len() as u64);
            header.set_cksum();
            builder.append_data(&mut header, path, data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn only_direct_children_with_their_modes() {
        use tar::EntryType::{Directory, Regular, Symlink};
        let tar = tar_of(&[
            ("extensions/", Directory, 0o755),
            ("extensions/recorder", Regular, 0o755),
            ("extensions/README", Regular, 0o644),
            ("extensions/lib/", Directory, 0o755),
            ("extensions/lib/helper", Regular, 0o755),
            ("extensions/link", Symlink, 0o777),
        ]);
        let files = entries(&tar, "/opt/extensions").unwrap();
        let seen: Vec<(&str, u32, bool, bool)> = files
            .iter()
            .map(|f| (f.name.as_str(), f.mode, f.is_file, f.is_executable()))
            .collect();
        assert_eq!(
            seen,
            [
                ("README", 0o644, true, false),
                ("lib", 0o755, false, false),
                ("link", 0o777, false, false),
                ("recorder", 0o755, true, true),
            ]
        );
    }
}
