//! bgpbox: one static binary, busybox-style. The basename of argv[0]
//! selects the applet (`/sbin/init` is init); `bgpbox <applet> [args]` does
//! the same.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use bgpbox::applets::{self, APPLETS};

#[cfg(feature = "dlmalloc")]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args.first().cloned().unwrap_or_default();
    let base = Path::new(&argv0).file_name().and_then(|s| s.to_str()).unwrap_or("bgpbox");
    if applets::find(base).is_some() && base != "build" {
        return applets::run(base, args);
    }
    args.remove(0);
    let Some(first) = args.first().and_then(|a| a.to_str()).map(str::to_string) else {
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    match first.as_str() {
        "-h" | "--help" | "help" => {
            print!("{}", usage());
            ExitCode::SUCCESS
        }
        "-V" | "--version" | "version" => {
            println!("bgpbox {}", bgpbox::VERSION);
            ExitCode::SUCCESS
        }
        name if applets::find(name).is_some() => applets::run(name, args),
        name => {
            let known: Vec<&str> = APPLETS.iter().map(|a| a.name).collect();
            eprintln!("bgpbox: unknown applet {name:?} (known applets: {})", known.join(", "));
            eprintln!("Run 'bgpbox --help' for what each one does.");
            ExitCode::from(2)
        }
    }
}

fn usage() -> String {
    let mut s = format!(
        "bgpbox {}: a BGP router appliance in one binary\n\nUsage: bgpbox <applet> [args...]\n       <applet> [args...]     (through a link named after the applet)\n\nApplets:\n",
        bgpbox::VERSION
    );
    for a in APPLETS {
        s.push_str(&format!("  {:<12} {}\n", a.name, a.about));
    }
    s.push_str("\nOptions:\n  -h, --help     this list\n  -V, --version  the version\n\n'bgpbox <applet> --help' describes an applet's arguments.\n");
    s
}
