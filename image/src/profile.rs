//! Host profiles: one TOML file per server describing its router container.
//!
//! The schema is documented in the README ("Profile reference"); keep the two
//! in step. Every error names the file, the dotted key and what is wrong.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use toml::{Table, Value};

use crate::keys::{KeyError, Keys};

/// A profile error, displayed as `file: key: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    pub file: PathBuf,
    pub error: KeyError,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.error)
    }
}

impl std::error::Error for ProfileError {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The file stem: names the image variant, the tarball and the LXD profile.
    pub name: String,
    pub description: Option<String>,
    pub router: Router,
    pub lan: Lan,
    pub vm_network: Option<VmNetwork>,
    pub bgp: Bgp,
    /// What the cross-checks found a user could mean (an iBGP neighbor
    /// off the LAN): said by `bgpbox build`, not refused.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Router {
    pub hostname: String,
    pub asn: u32,
    pub router_id: Option<Ipv4Addr>,
    /// `metrics = "ADDR:PORT"`: where bgpd serves Prometheus metrics.
    pub metrics: Option<std::net::SocketAddr>,
    /// `storage_pool`: the LXD pool of the config volume (`default`).
    pub storage_pool: String,
}

impl Router {
    /// The custom volume that keeps the saved config across images.
    pub fn config_volume(&self, profile: &str) -> String {
        format!("bgpbox-{profile}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lan {
    /// Host NIC the container's macvlan hangs off.
    pub parent: String,
    pub addresses: Vec<IpNet>,
    pub gateway: Option<IpAddr>,
    pub gateway6: Option<IpAddr>,
    pub hwaddr: Option<String>,
    pub mtu: Option<u32>,
    /// The host's own address for the macvlan shim (`netsetup host-shim`).
    pub shim_address: Option<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmNetwork {
    /// Host bridge the VMs are on; the container gets a bridged NIC on it.
    pub bridge: String,
    /// The router's own addresses there (the VMs' gateway).
    pub addresses: Vec<IpNet>,
    pub mtu: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bgp {
    /// bgpd.conf is rendered from these settings.
    Generated {
        announce: Vec<IpNet>,
        accept: Vec<PrefixMatch>,
        neighbors: Vec<Neighbor>,
        listen: Vec<Listen>,
        /// `graceful_restart`: "helper" (FRR's default), "restart" or
        /// "disable".
        graceful_restart: String,
        /// `bfd_interval`: the BFD sessions' intervals, ms (None: FRR's
        /// 300).
        bfd_interval: Option<u32>,
    },
    /// A hand-written bgpd.conf in FRR's dialect, copied as it is.
    File { path: PathBuf, text: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    pub address: IpAddr,
    pub remote_as: u32,
    pub description: Option<String>,
    /// `neighbor X bfd` (the neighbor must run BFD too).
    pub bfd: bool,
}

/// `[[listen]]`: any router of the LAN in `range` may peer with this one
/// (a dynamic neighbor, `bgp listen range`), with AS `remote_as`: a
/// number, "external" or "internal".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub range: IpNet,
    pub remote_as: String,
    pub description: Option<String>,
    pub bfd: bool,
}

/// One entry of a prefix-list as FRR writes it: `any`, or a prefix with
/// optional `ge`/`le` bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixMatch {
    pub prefix: Option<IpNet>,
    pub ge: Option<u8>,
    pub le: Option<u8>,
}

impl fmt::Display for PrefixMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.prefix {
            None => f.write_str("any")?,
            Some(p) => write!(f, "{p}")?,
        }
        if let Some(ge) = self.ge {
            write!(f, " ge {ge}")?;
        }
        if let Some(le) = self.le {
            write!(f, " le {le}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for PrefixMatch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let (first, rest) = words.split_first().ok_or("empty")?;
        if *first == "any" {
            if !rest.is_empty() {
                return Err("nothing may follow `any`".into());
            }
            return Ok(PrefixMatch { prefix: None, ge: None, le: None });
        }
        let prefix: IpNet = first.parse().map_err(|_| format!("{first} is not a prefix"))?;
        if prefix.trunc() != prefix {
            return Err(format!("{prefix} has host bits set (did you mean {}?)", prefix.trunc()));
        }
        let mut m = PrefixMatch { prefix: Some(prefix), ge: None, le: None };
        let mut it = rest.iter();
        while let Some(word) = it.next() {
            let value: u8 = it
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|v| *v <= prefix.max_prefix_len() && *v >= prefix.prefix_len())
                .ok_or_else(|| {
                    format!("`{word}` needs a length from {} to {}", prefix.prefix_len(), prefix.max_prefix_len())
                })?;
            match *word {
                "ge" if m.ge.is_none() => m.ge = Some(value),
                "le" if m.le.is_none() => m.le = Some(value),
                _ => return Err(format!("unexpected `{word}` (expected ge or le)")),
            }
        }
        if let (Some(ge), Some(le)) = (m.ge, m.le) {
            if ge > le {
                return Err(format!("ge {ge} is greater than le {le}"));
            }
        }
        Ok(m)
    }
}

const TOP: &[&str] = &["description", "router", "lan", "vm_network", "bgp", "neighbor", "listen"];
const ROUTER: &[&str] = &["hostname", "asn", "router_id", "metrics", "storage_pool"];
const LAN: &[&str] = &["parent", "addresses", "gateway", "gateway6", "hwaddr", "mtu", "shim_address"];
const VM: &[&str] = &["bridge", "addresses", "mtu"];
const BGP: &[&str] = &["announce", "accept", "config", "graceful_restart", "bfd_interval"];
const NEIGHBOR: &[&str] = &["address", "remote_as", "description", "bfd"];
const LISTEN: &[&str] = &["range", "remote_as", "description", "bfd"];

impl Profile {
    /// Reads and validates a profile file, applying `overrides` (`key=value`
    /// as given to `bgpbox build --set`) before validation.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Profile, ProfileError> {
        let wrap = |error: KeyError| ProfileError { file: path.to_path_buf(), error };
        let text = std::fs::read_to_string(path)
            .map_err(|e| wrap(KeyError { key: String::new(), message: format!("cannot read: {e}") }))?;
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let mut table: Table = text.parse().map_err(|e: toml::de::Error| {
            wrap(KeyError { key: String::new(), message: format!("not valid TOML: {}", e.message().trim()) })
        })?;
        for o in overrides {
            apply_override(&mut table, o).map_err(wrap)?;
        }
        let base = path.parent().unwrap_or(Path::new("."));
        Profile::from_table(&name, table, base).map_err(wrap)
    }

    /// Validates a parsed profile. `base` resolves a relative `bgp.config`.
    pub fn from_table(name: &str, table: Table, base: &Path) -> Result<Profile, KeyError> {
        check_name(name)
            .map_err(|m| KeyError { key: String::new(), message: format!("profile name {name:?}: {m}") })?;
        let mut top = Keys::new("", table, TOP).known()?;
        let description = top.opt_str("description")?;

        let mut r =
            top.opt_table("router", ROUTER)?.ok_or_else(|| top.err("router", "missing (required table [router])"))?;
        let hostname = r.str("hostname")?;
        check_hostname(&hostname).map_err(|m| r.err("hostname", format!("{hostname:?} {m}")))?;
        let asn = as_number(&mut r, "asn")?.ok_or_else(|| r.err("asn", "missing (required)"))?;
        let router_id = r.opt_parsed("router_id", "an IPv4 address")?;
        let metrics: Option<std::net::SocketAddr> =
            r.opt_parsed("metrics", "ADDR:PORT, an address of this router and a port (\"192.0.2.203:9342\")")?;
        let metrics_err = metrics.map(|m| r.err("metrics", format!("{m}: not an address of this router (lan.addresses, vm_network.addresses, or 127.0.0.1, 0.0.0.0, ::)")));
        let storage_pool = r.opt_str("storage_pool")?.unwrap_or_else(|| "default".into());
        check_name(&storage_pool).map_err(|m| r.err("storage_pool", format!("{storage_pool:?}: {m}")))?;
        r.finish()?;

        let mut l = top.opt_table("lan", LAN)?.ok_or_else(|| top.err("lan", "missing (required table [lan])"))?;
        let parent = l.str("parent")?;
        check_ifname(&parent).map_err(|m| l.err("parent", format!("{parent:?} {m}")))?;
        let addresses = read_addresses(&mut l)?;
        let gateway: Option<IpAddr> = l.opt_parsed("gateway", "an IPv4 address")?;
        if let Some(gw) = gateway {
            if !gw.is_ipv4() {
                return Err(l.err("gateway", format!("{gw} is not IPv4 (use gateway6)")));
            }
            on_link(&l, "gateway", gw, &addresses)?;
        }
        let gateway6: Option<IpAddr> = l.opt_parsed("gateway6", "an IPv6 address")?;
        if let Some(gw) = gateway6 {
            if !gw.is_ipv6() {
                return Err(l.err("gateway6", format!("{gw} is not IPv6 (use gateway)")));
            }
            if !is_link_local(gw) {
                on_link(&l, "gateway6", gw, &addresses)?;
            }
        }
        let hwaddr = l.opt_str("hwaddr")?;
        if let Some(mac) = &hwaddr {
            check_mac(mac).map_err(|m| l.err("hwaddr", format!("{mac:?} {m}")))?;
        }
        let mtu = read_mtu(&mut l)?;
        let shim_address: Option<IpNet> = l.opt_parsed("shim_address", "an address with its prefix length")?;
        if let Some(s) = shim_address {
            on_link(&l, "shim_address", s.addr(), &addresses)?;
        }
        l.finish()?;
        let lan = Lan { parent, addresses, gateway, gateway6, hwaddr, mtu, shim_address };

        let vm_network = match top.opt_table("vm_network", VM)? {
            None => None,
            Some(mut v) => {
                let bridge = v.str("bridge")?;
                check_ifname(&bridge).map_err(|m| v.err("bridge", format!("{bridge:?} {m}")))?;
                let addresses = read_addresses(&mut v)?;
                let mtu = read_mtu(&mut v)?;
                v.finish()?;
                Some(VmNetwork { bridge, addresses, mtu })
            }
        };

        if let (Some(m), Some(e)) = (metrics, metrics_err) {
            let mine = lan.addresses.iter().chain(vm_network.iter().flat_map(|v| v.addresses.iter()));
            let ok = m.ip().is_unspecified() || m.ip().is_loopback() || mine.clone().any(|a| a.addr() == m.ip());
            if !ok {
                return Err(e);
            }
        }

        let mut neighbors = Vec::new();
        for mut n in top.opt_tables("neighbor", NEIGHBOR)? {
            let address: IpAddr = n.parsed("address", "an IP address")?;
            let remote_as = as_number(&mut n, "remote_as")?.ok_or_else(|| n.err("remote_as", "missing (required)"))?;
            let description = n.opt_str("description")?;
            let bfd = n.opt_bool("bfd")?.unwrap_or(false);
            n.finish()?;
            if neighbors.iter().any(|x: &Neighbor| x.address == address) {
                return Err(KeyError { key: "neighbor".into(), message: format!("{address} is listed twice") });
            }
            neighbors.push(Neighbor { address, remote_as, description, bfd });
        }

        let listen = read_listen(&mut top, &lan.addresses)?;
        let bgp = match top.opt_table("bgp", BGP)? {
            None => return Err(top.err("bgp", "missing (required table [bgp])")),
            Some(mut b) if b.has("config") => {
                let rel: PathBuf = b.str("config")?.into();
                if b.has("announce") || b.has("accept") || !neighbors.is_empty() || !listen.is_empty() {
                    return Err(b.err("config", "a hand-written config replaces bgp.announce, bgp.accept, [[neighbor]] and [[listen]]: use one or the other"));
                }
                b.finish()?;
                let path = base.join(&rel);
                let text = std::fs::read_to_string(&path).map_err(|e| KeyError {
                    key: "bgp.config".into(),
                    message: format!("cannot read {}: {e}", path.display()),
                })?;
                Bgp::File { path, text }
            }
            Some(mut b) => {
                let announce: Vec<IpNet> = b.opt_list("announce", "a prefix")?.unwrap_or_default();
                for (i, p) in announce.iter().enumerate() {
                    if p.trunc() != *p {
                        return Err(b.err(
                            &format!("announce[{i}]"),
                            format!("{p} has host bits set (did you mean {}?)", p.trunc()),
                        ));
                    }
                }
                let accept = match b.opt_str_list("accept")? {
                    None => vec![PrefixMatch { prefix: None, ge: None, le: None }],
                    Some(items) => {
                        let mut out = Vec::new();
                        for (i, s) in items.iter().enumerate() {
                            out.push(
                                s.parse().map_err(|m: String| b.err(&format!("accept[{i}]"), format!("{s:?}: {m}")))?,
                            );
                        }
                        out
                    }
                };
                let graceful_restart = b.opt_str("graceful_restart")?.unwrap_or_else(|| "helper".into());
                if !["helper", "restart", "disable"].contains(&graceful_restart.as_str()) {
                    return Err(b.err(
                        "graceful_restart",
                        format!("{graceful_restart:?}: expected \"helper\", \"restart\" or \"disable\""),
                    ));
                }
                let bfd_interval = match b.opt_int("bfd_interval")? {
                    None => None,
                    Some(n @ 10..=60000) => Some(n as u32),
                    Some(n) => return Err(b.err("bfd_interval", format!("{n}: 10 to 60000 ms"))),
                };
                b.finish()?;
                if neighbors.is_empty() && listen.is_empty() {
                    return Err(KeyError {
                        key: "neighbor".into(),
                        message: "no [[neighbor]] and no [[listen]]: a router needs at least one".into(),
                    });
                }
                Bgp::Generated { announce, accept, neighbors, listen, graceful_restart, bfd_interval }
            }
        };
        top.finish()?;
        let mut p = Profile {
            name: name.to_string(),
            description,
            router: Router { hostname, asn, router_id, metrics, storage_pool },
            lan,
            vm_network,
            bgp,
            warnings: Vec::new(),
        };
        p.warnings = crate::checks::cross_check(&p)?;
        Ok(p)
    }
}

impl Keys {
    fn opt_str_list(&mut self, name: &str) -> Result<Option<Vec<String>>, KeyError> {
        self.opt_list(name, "a string")
    }
}

/// `[[listen]]` tables: each range on the LAN, once.
fn read_listen(top: &mut Keys, lan: &[IpNet]) -> Result<Vec<Listen>, KeyError> {
    let mut out: Vec<Listen> = Vec::new();
    for mut l in top.opt_tables("listen", LISTEN)? {
        let range: IpNet = l.parsed("range", "a prefix (like 192.0.2.0/24)")?;
        if range.trunc() != range {
            return Err(l.err("range", format!("{range} has host bits set (did you mean {}?)", range.trunc())));
        }
        if !lan.iter().any(|a| a.trunc().contains(&range) || range.contains(&a.trunc())) {
            let list: Vec<String> = lan.iter().map(|a| a.trunc().to_string()).collect();
            return Err(l.err("range", format!("{range} is not on the LAN ({})", list.join(", "))));
        }
        let remote_as = match l.opt_int_or_str("remote_as")? {
            None => return Err(l.err("remote_as", "missing (required: an AS number, \"external\" or \"internal\")")),
            Some(Err(w)) if w == "external" || w == "internal" => w,
            Some(Err(w)) => {
                return Err(l.err("remote_as", format!("{w:?}: expected an AS number, \"external\" or \"internal\"")))
            }
            Some(Ok(n)) => asn_value(&l, "remote_as", n)?.to_string(),
        };
        let description = l.opt_str("description")?;
        let bfd = l.opt_bool("bfd")?.unwrap_or(false);
        l.finish()?;
        if out.iter().any(|x| x.range == range) {
            return Err(KeyError { key: "listen".into(), message: format!("{range} is listed twice") });
        }
        out.push(Listen { range, remote_as, description, bfd });
    }
    Ok(out)
}

fn as_number(k: &mut Keys, name: &str) -> Result<Option<u32>, KeyError> {
    match k.opt_int(name)? {
        None => Ok(None),
        Some(n) => asn_value(k, name, n).map(Some),
    }
}

fn asn_value(k: &Keys, name: &str, n: i64) -> Result<u32, KeyError> {
    match n {
        23456 => Err(k.err(name, "23456 is AS_TRANS (RFC 6793), not usable as an AS number")),
        n if (1..=u32::MAX as i64).contains(&n) => Ok(n as u32),
        n => Err(k.err(name, format!("{n} is not an AS number (1 to 4294967295)"))),
    }
}

fn read_addresses(k: &mut Keys) -> Result<Vec<IpNet>, KeyError> {
    let list: Vec<IpNet> = k
        .opt_list("addresses", "an address with its prefix length (like 192.0.2.1/24)")?
        .ok_or_else(|| k.err("addresses", "missing (required)"))?;
    if list.is_empty() {
        return Err(k.err("addresses", "empty: give at least one address"));
    }
    for (i, a) in list.iter().enumerate() {
        let room = a.max_prefix_len() - a.prefix_len();
        let not_host = match a {
            IpNet::V4(_) => room >= 2 && (a.addr() == a.network() || a.addr() == a.broadcast()),
            IpNet::V6(_) => room >= 2 && a.addr() == a.network(),
        };
        if not_host {
            return Err(
                k.err(&format!("addresses[{i}]"), format!("{a} is the subnet's own address, not a host address"))
            );
        }
    }
    Ok(list)
}

fn read_mtu(k: &mut Keys) -> Result<Option<u32>, KeyError> {
    match k.opt_int("mtu")? {
        None => Ok(None),
        Some(m) if (68..=65535).contains(&m) => Ok(Some(m as u32)),
        Some(m) => Err(k.err("mtu", format!("{m} is not an MTU (68 to 65535)"))),
    }
}

fn on_link(k: &Keys, key: &str, gw: IpAddr, addrs: &[IpNet]) -> Result<(), KeyError> {
    if addrs.iter().any(|a| a.contains(&gw)) {
        return Ok(());
    }
    let list: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    Err(k.err(key, format!("{gw} is not on the LAN ({})", list.join(", "))))
}

fn is_link_local(a: IpAddr) -> bool {
    matches!(a, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 63 {
        return Err("must be 1 to 63 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        || name.starts_with(['-', '.'])
    {
        return Err("may hold only letters, digits, '-', '_' and '.' (it names the LXD profile and image)");
    }
    Ok(())
}

fn check_hostname(h: &str) -> Result<(), &'static str> {
    if h.is_empty() || h.len() > 63 {
        return Err("is not a hostname: 1 to 63 characters");
    }
    if h.starts_with('-') || h.ends_with('-') || !h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("is not a hostname: letters, digits and inner '-' only");
    }
    Ok(())
}

fn check_ifname(n: &str) -> Result<(), &'static str> {
    if n.is_empty() || n.len() > 15 || n.contains(['/', ' ', ':']) || n == "." || n == ".." {
        return Err("is not an interface name (1 to 15 characters, no '/', ':' or space)");
    }
    Ok(())
}

fn check_mac(m: &str) -> Result<(), &'static str> {
    let parts: Vec<&str> = m.split(':').collect();
    if parts.len() != 6 || !parts.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit())) {
        return Err("is not a MAC address (like 00:16:3e:12:34:56)");
    }
    let first = u8::from_str_radix(parts[0], 16).unwrap_or(1);
    if first & 1 == 1 {
        return Err("is a multicast MAC address");
    }
    Ok(())
}

/// Applies one `key=value` override. The value is read as a TOML value when
/// it parses as one (`65010`, `["192.0.2.1/24"]`, `"x"`), else as a bare
/// string, so `lan.parent=veth0` works without quotes.
pub fn apply_override(table: &mut Table, spec: &str) -> Result<(), KeyError> {
    let bad = |m: String| KeyError { key: String::new(), message: format!("--set {spec:?}: {m}") };
    let (path, raw) = spec.split_once('=').ok_or_else(|| bad("expected KEY=VALUE".into()))?;
    let value = match format!("v = {raw}").parse::<Table>() {
        Ok(mut t) => t.remove("v").unwrap_or(Value::String(raw.to_string())),
        Err(_) => Value::String(raw.to_string()),
    };
    let parts: Vec<&str> = path.trim().split('.').collect();
    let mut cur = table;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => {
                let idx: usize = rest
                    .strip_suffix(']')
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad(format!("bad index in {part:?}")))?;
                (n, Some(idx))
            }
            None => (*part, None),
        };
        if name.is_empty() {
            return Err(bad("empty key".into()));
        }
        match (index, last) {
            (None, true) => {
                cur.insert(name.to_string(), value);
                return Ok(());
            }
            (None, false) => {
                let next = cur.entry(name.to_string()).or_insert_with(|| Value::Table(Table::new()));
                cur = next.as_table_mut().ok_or_else(|| bad(format!("{name} is not a table")))?;
            }
            (Some(idx), _) => {
                let arr = cur
                    .get_mut(name)
                    .and_then(|v| v.as_array_mut())
                    .ok_or_else(|| bad(format!("{name} is not an array")))?;
                let len = arr.len();
                let item = arr.get_mut(idx).ok_or_else(|| bad(format!("{name} has {len} entries, no [{idx}]")))?;
                if last {
                    *item = value;
                    return Ok(());
                }
                cur = item.as_table_mut().ok_or_else(|| bad(format!("{name}[{idx}] is not a table")))?;
            }
        }
    }
    Ok(())
}
