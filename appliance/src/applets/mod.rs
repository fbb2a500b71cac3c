//! The applets of the multi-call binary and their dispatch.

use std::ffi::OsString;
use std::process::ExitCode;

pub mod bgpd;
pub mod build;
pub mod diag;
pub mod healthcheck;
pub mod home_router;
pub mod init;
pub mod netsetup;
pub mod publish;
pub mod saved_config;
pub mod upgrade;
pub mod vtysh;

pub struct Applet {
    pub name: &'static str,
    pub about: &'static str,
    /// Whether the image gets a link named after it.
    pub linked: bool,
    run: fn(Vec<OsString>) -> ExitCode,
}

pub const APPLETS: &[Applet] = &[
    Applet {
        name: "init",
        about: "PID 1 of the container: runs netsetup, supervises bgpd, stops cleanly",
        linked: true,
        run: init::main,
    },
    Applet {
        name: "bgpd",
        about: "the BGP daemon: FRR's config dialect, sessions, RIB, kernel FIB",
        linked: true,
        run: bgpd::main,
    },
    Applet {
        name: "vtysh",
        about: "bgpd's config shell, FRR-compatible (vtysh -c 'show ip route bgp')",
        linked: true,
        run: vtysh::main,
    },
    Applet {
        name: "netsetup",
        about: "addresses, routes and sysctls from the image's network settings; host-shim for the host",
        linked: true,
        run: netsetup::main,
    },
    Applet {
        name: "healthcheck",
        about: "is this router doing its job: exit 0 or 1 with the reasons (--json, --wait SECONDS)",
        linked: true,
        run: healthcheck::main,
    },
    Applet {
        name: "ping",
        about: "ICMP echo to a host (-c N, -I SOURCE, -4/-6), as iputils' ping prints it",
        linked: true,
        run: diag::ping,
    },
    Applet {
        name: "traceroute",
        about: "the routers on the way to a host (ICMP, numeric, -m MAX_HOPS)",
        linked: true,
        run: diag::traceroute,
    },
    Applet {
        name: "upgrade",
        about: "on the host: moves a router container to a new image, keeping its saved config",
        linked: false,
        run: upgrade::main,
    },
    Applet {
        name: "publish",
        about: "builds every host's image into a simplestreams tree for LXD and Incus (lxc remote add ... --protocol simplestreams)",
        linked: false,
        run: publish::main,
    },
    Applet {
        name: "build",
        about: "packs this binary, rootfs/ and a host profile into an LXD image and profile",
        linked: false,
        run: build::main,
    },
];

pub fn find(name: &str) -> Option<&'static Applet> {
    APPLETS.iter().find(|a| a.name == name)
}

/// Runs an applet; `args[0]` is the name it was called by.
pub fn run(name: &str, args: Vec<OsString>) -> ExitCode {
    match find(name) {
        Some(a) => (a.run)(args),
        None => ExitCode::from(2),
    }
}

/// Names of the applets the image links to the binary.
pub fn linked() -> Vec<&'static str> {
    APPLETS.iter().filter(|a| a.linked).map(|a| a.name).collect()
}

/// Parses an applet's arguments with clap, printing help or the error and
/// turning them into the exit code clap would use.
pub fn parse<T: clap::Parser>(args: Vec<OsString>) -> Result<T, ExitCode> {
    T::try_parse_from(args).map_err(|e| {
        let code = if e.use_stderr() { 2 } else { 0 };
        let _ = e.print();
        ExitCode::from(code)
    })
}
