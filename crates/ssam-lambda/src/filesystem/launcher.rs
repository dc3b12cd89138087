//! `ssam __sandbox [--join PID] CWD TMP_MB STAGE KEEP... -- READ_ONLY... -- PROGRAM ARGS...`
//! (with `--join`, it enters the namespaces `PID` made, as an instance's extensions and
//! runtime share them, and makes its own from the rest only when `PID` has ended): the native
//! sandbox's launcher, the same steps as [`super::SCRIPT`] made as system calls in one
//! process instead of a shell and one `mount` process per directory (a cold start pays for
//! every process it spawns). The ssam binary runs it before anything else, while it is
//! still single-threaded, as `unshare(CLONE_NEWUSER)` requires.

use std::convert::Infallible;
use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};

use nix::mount::{mount, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::statvfs::{statvfs, FsFlags};
use nix::unistd::{getgid, getuid};

/// The argument that makes the ssam binary a sandbox launcher.
pub const ARG: &str = "__sandbox";
/// The launcher's first argument when it joins another process's namespaces.
pub const JOIN: &str = "--join";

/// Runs the launcher with the arguments after [`ARG`]; returns only on failure, with the
/// exit code a shell gives a command it cannot run.
pub fn main(args: Vec<OsString>) -> std::process::ExitCode {
    match run(args) {
        Ok(never) => match never {},
        Err(msg) => {
            eprintln!("ssam: {msg}; hint: run with --writable-code");
            std::process::ExitCode::from(126)
        }
    }
}

struct Plan {
    cwd: PathBuf,
    tmp_mb: u32,
    stage: PathBuf,
    keep: Vec<PathBuf>,
    read_only: Vec<PathBuf>,
    program: OsString,
    args: Vec<OsString>,
}

fn parse(args: Vec<OsString>) -> Result<Plan, String> {
    let mut it = args.into_iter();
    let mut next = |what: &str| {
        it.next()
            .ok_or_else(|| format!("sandbox launcher: no {what}"))
    };
    let cwd = PathBuf::from(next("working directory")?);
    let tmp_mb = next("/tmp size")?
        .to_str()
        .and_then(|s| s.parse().ok())
        .ok_or("sandbox launcher: the /tmp size is not a number")?;
    let stage = PathBuf::from(next("stage directory")?);
    let mut until_dashes = |what: &str| -> Result<Vec<PathBuf>, String> {
        let mut out = Vec::new();
        loop {
            let a = next(what)?;
            if a == "--" {
                return Ok(out);
            }
            out.push(PathBuf::from(a));
        }
    };
    let keep = until_dashes("end of the kept directories")?;
    let read_only = until_dashes("end of the read-only directories")?;
    let program = next("program")?;
    Ok(Plan {
        cwd,
        tmp_mb,
        stage,
        keep,
        read_only,
        program,
        args: it.collect(),
    })
}

fn run(mut args: Vec<OsString>) -> Result<Infallible, String> {
    let join_pid = if args.first().is_some_and(|a| a == JOIN) {
        args.remove(0);
        let pid = (!args.is_empty())
            .then(|| args.remove(0))
            .and_then(|p| p.to_str().and_then(|p| p.parse::<u32>().ok()))
            .ok_or("sandbox launcher: --join needs a process id")?;
        Some(pid)
    } else {
        None
    };
    let plan = parse(args)?;
    if let Some(pid) = join_pid {
        if join(pid)? {
            return exec_in(&plan.cwd, &plan.program, &plan.args);
        }
        // The namespaces' first process is gone: this one makes its own.
    }
    let (uid, gid) = (getuid(), getgid());
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)
        .map_err(|e| format!("cannot make the sandbox's namespaces: {e}"))?;
    // The same user inside as outside; `setgroups` must be denied before an unprivileged
    // process may write its gid map (user_namespaces(7)).
    let write = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|e| format!("cannot write {file}: {e}"))
    };
    if Path::new("/proc/self/setgroups").exists() {
        write("/proc/self/setgroups", "deny".into())?;
    }
    write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    // Nothing mounted here reaches the machine.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("cannot make the sandbox's mounts private: {e}"))?;
    if plan.tmp_mb > 0 {
        bind(Path::new("/tmp"), &plan.stage).map_err(|e| {
            format!(
                "cannot keep the machine's /tmp at {}: {e}",
                plan.stage.display()
            )
        })?;
        mount(
            Some("ssam-tmp"),
            "/tmp",
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(format!("size={}m,mode=1777", plan.tmp_mb).as_str()),
        )
        .map_err(|e| format!("cannot give the function its own /tmp: {e}"))?;
        for k in &plan.keep {
            let rel = k.strip_prefix("/tmp").unwrap_or(k);
            std::fs::create_dir_all(k)
                .and_then(|()| bind(&plan.stage.join(rel), k))
                .map_err(|e| format!("cannot keep {}: {e}", k.display()))?;
        }
    }
    for d in &plan.read_only {
        read_only(d).map_err(|e| {
            format!(
                "cannot make {} read-only as it is on Lambda: {e}",
                d.display()
            )
        })?;
    }
    exec_in(&plan.cwd, &plan.program, &plan.args)
}

/// Becomes `program args` in `cwd`.
fn exec_in(cwd: &Path, program: &OsString, args: &[OsString]) -> Result<Infallible, String> {
    std::env::set_current_dir(cwd).map_err(|e| format!("cannot enter {}: {e}", cwd.display()))?;
    let err = std::process::Command::new(program).args(args).exec();
    Err(format!(
        "could not start {}: {err}",
        Path::new(program).display()
    ))
}

/// Enters `pid`'s namespaces: the user namespace first (it grants the rights the mount
/// namespace needs), then the mount namespace. `Ok(false)` when `pid` has ended (nothing
/// entered).
fn join(pid: u32) -> Result<bool, String> {
    for (ns, flag) in [
        ("user", CloneFlags::CLONE_NEWUSER),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ] {
        let path = format!("/proc/{pid}/ns/{ns}");
        let fd = match std::fs::File::open(&path) {
            Ok(fd) => fd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && ns == "user" => return Ok(false),
            Err(e) => return Err(format!("cannot open {path}: {e}")),
        };
        setns(&fd, flag).map_err(|e| format!("cannot enter {path}: {e}"))?;
    }
    Ok(true)
}

fn bind(from: &Path, to: &Path) -> std::io::Result<()> {
    mount(
        Some(from),
        to,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(std::io::Error::from)
}

/// `dir` bind-mounted read-only onto itself. The remount must keep the flags the mount
/// already has (nosuid, nodev, noexec, atime): a user namespace may not clear them
/// (mount(2), EPERM).
fn read_only(dir: &Path) -> std::io::Result<()> {
    mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>)?;
    let have = statvfs(dir)?.flags();
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    for (st, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if have.contains(st) {
            flags |= ms;
        }
    }
    mount(None::<&str>, dir, None::<&str>, flags, None::<&str>)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn arguments_are_read_in_order() {
        let args = [
            "/code", "512", "/stage", "/tmp/a", "--", "/code", "/layer", "--", "/bin/py", "-u",
            "x.py",
        ]
        .map(OsString::from)
        .to_vec();
        let p = parse(args).unwrap();
        assert_eq!(p.cwd, PathBuf::from("/code"));
        assert_eq!(p.tmp_mb, 512);
        assert_eq!(p.keep, [PathBuf::from("/tmp/a")]);
        assert_eq!(
            p.read_only,
            [PathBuf::from("/code"), PathBuf::from("/layer")]
        );
        assert_eq!(p.program, "/bin/py");
        assert_eq!(p.args, ["-u", "x.py"].map(OsString::from));
        assert!(parse(["/code", "x"].map(OsString::from).to_vec()).is_err());
        assert!(parse(["/code", "0", "/", "--"].map(OsString::from).to_vec()).is_err());
    }
}
