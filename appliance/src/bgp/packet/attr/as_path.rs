//! AS_PATH (RFC 4271 4.3, RFC 6793 for 4-octet ASes).

use std::fmt;

use crate::bgp::packet::AS_TRANS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    Set = 1,
    Sequence = 2,
    ConfedSequence = 3,
    ConfedSet = 4,
}

/// An AS_PATH. The segments lie back to back in one run of words, each a
/// header (type << 24 | count) and its AS numbers: an attribute set is
/// shared by many routes, but a full table still has a few hundred
/// thousand of them, and a vector per segment would double their cost.
/// Owned (`AsPath`, what decoding and policy build) or borrowed from an
/// attribute set's words (`AsPath<&[u32]>`, what `PathAttrs::as_path`
/// gives); both read alike.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsPath<D = Box<[u32]>> {
    data: D,
}

impl<A: AsRef<[u32]>, B: AsRef<[u32]>> PartialEq<AsPath<B>> for AsPath<A> {
    fn eq(&self, other: &AsPath<B>) -> bool {
        self.data.as_ref() == other.data.as_ref()
    }
}

impl<D: AsRef<[u32]>> Eq for AsPath<D> {}

impl<D: AsRef<[u32]>> std::hash::Hash for AsPath<D> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.data.as_ref().hash(h)
    }
}

fn kind_of(header: u32) -> SegmentKind {
    match header >> 24 {
        1 => SegmentKind::Set,
        3 => SegmentKind::ConfedSequence,
        4 => SegmentKind::ConfedSet,
        _ => SegmentKind::Sequence,
    }
}

impl<'a> AsPath<&'a [u32]> {
    /// A path over an attribute set's words (segment headers and ASes).
    pub(super) fn borrowed(data: &'a [u32]) -> Self {
        AsPath { data }
    }
}

fn segments(mut d: &[u32]) -> impl Iterator<Item = (SegmentKind, &[u32])> {
    std::iter::from_fn(move || {
        let (&h, rest) = d.split_first()?;
        let n = ((h & 0xff_ffff) as usize).min(rest.len());
        let (asns, tail) = rest.split_at(n);
        d = tail;
        Some((kind_of(h), asns))
    })
}

impl<D: AsRef<[u32]>> AsPath<D> {
    /// The words: segment headers and AS numbers, as an attribute set
    /// keeps them.
    pub(super) fn words(&self) -> &[u32] {
        self.data.as_ref()
    }

    pub fn view(&self) -> AsPath<&[u32]> {
        AsPath { data: self.data.as_ref() }
    }

    pub fn owned(&self) -> AsPath {
        AsPath { data: self.data.as_ref().into() }
    }

    /// The segments: type and AS numbers.
    pub fn segments(&self) -> impl Iterator<Item = (SegmentKind, &[u32])> {
        segments(self.data.as_ref())
    }

    /// The length best-path selection compares: a set counts one,
    /// confederation segments nothing (RFC 4271 9.1.2.2, RFC 5065).
    pub fn len(&self) -> usize {
        self.segments()
            .map(|(kind, asns)| match kind {
                SegmentKind::Sequence => asns.len(),
                SegmentKind::Set => 1,
                _ => 0,
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.data.as_ref().is_empty()
    }

    pub fn first_as(&self) -> Option<u32> {
        match self.segments().next() {
            Some((SegmentKind::Sequence, asns)) => asns.first().copied(),
            _ => None,
        }
    }

    pub fn contains(&self, asn: u32) -> bool {
        self.segments().any(|(_, asns)| asns.contains(&asn))
    }

    /// How many times `asn` occurs.
    pub fn count(&self, asn: u32) -> usize {
        self.segments().map(|(_, asns)| asns.iter().filter(|a| **a == asn).count()).sum()
    }

    /// The originating AS: the last of the last sequence.
    pub fn origin_as(&self) -> Option<u32> {
        match self.segments().last() {
            Some((SegmentKind::Sequence, asns)) => asns.last().copied(),
            _ => None,
        }
    }

    /// Every AS through `f` (None: dropped), segments kept, empty ones gone.
    pub fn map(&self, f: impl Fn(u32) -> Option<u32>) -> AsPath {
        let segs: Vec<(SegmentKind, Vec<u32>)> =
            self.segments().map(|(k, asns)| (k, asns.iter().filter_map(|a| f(*a)).collect())).collect();
        AsPath::from_segments(segs.iter().map(|(k, v)| (*k, v.as_slice())))
    }

    pub fn all(&self, f: impl Fn(u32) -> bool) -> bool {
        self.segments().all(|(_, asns)| asns.iter().all(|a| f(*a)))
    }

    pub(super) fn has_4octet(&self) -> bool {
        self.segments().flat_map(|(_, asns)| asns).any(|a| *a > 0xffff)
    }

    pub(super) fn encode(&self, four: bool, out: &mut Vec<u8>) {
        for (kind, asns) in self.segments() {
            for chunk in asns.chunks(255) {
                out.push(kind as u8);
                out.push(chunk.len() as u8);
                for a in chunk {
                    if four {
                        out.extend_from_slice(&a.to_be_bytes());
                    } else {
                        out.extend_from_slice(&(u16::try_from(*a).unwrap_or(AS_TRANS as u16)).to_be_bytes());
                    }
                }
            }
        }
    }

    fn count_all(&self) -> usize {
        self.segments().map(|(_, asns)| asns.len()).sum()
    }
}

impl AsPath {
    /// A path of the given segments (empty ones are left out).
    pub fn from_segments<'a>(segs: impl IntoIterator<Item = (SegmentKind, &'a [u32])>) -> AsPath {
        let mut v = Vec::new();
        for (kind, asns) in segs {
            push_segment(&mut v, kind, asns);
        }
        AsPath { data: v.into_boxed_slice() }
    }

    pub fn sequence(asns: &[u32]) -> AsPath {
        AsPath::from_segments([(SegmentKind::Sequence, asns)])
    }

    /// Prepends `asn` `times` times, as eBGP advertisement and
    /// `set as-path prepend` do.
    pub fn prepend(&mut self, asn: u32, times: usize) {
        if times == 0 {
            return;
        }
        let mut v = Vec::with_capacity(self.data.len() + times + 1);
        let mut rest = self.segments();
        match rest.next() {
            Some((SegmentKind::Sequence, first)) if first.len() + times <= 255 => {
                let mut seq = vec![asn; times];
                seq.extend_from_slice(first);
                push_segment(&mut v, SegmentKind::Sequence, &seq);
            }
            other => {
                push_segment(&mut v, SegmentKind::Sequence, &vec![asn; times]);
                if let Some((kind, asns)) = other {
                    push_segment(&mut v, kind, asns);
                }
            }
        }
        for (kind, asns) in rest {
            push_segment(&mut v, kind, asns);
        }
        self.data = v.into_boxed_slice();
    }

    /// None: malformed (RFC 7606 7.2: bad segment type, empty segment,
    /// overrun or underrun).
    pub(super) fn decode(mut b: &[u8], four: bool) -> Option<AsPath> {
        let width = if four { 4 } else { 2 };
        // Sized exactly first (a walk over the segment headers): grown a
        // push at a time and shrunk into a box, a path took three trips
        // to the allocator, once for every UPDATE in.
        let mut words = 0;
        let mut at = 0;
        while let Some(&n) = b.get(at + 1) {
            words += 1 + n as usize;
            at += 2 + n as usize * width;
        }
        let mut v = Vec::with_capacity(words);
        while !b.is_empty() {
            let kind = match b.first()? {
                1 => SegmentKind::Set,
                2 => SegmentKind::Sequence,
                3 => SegmentKind::ConfedSequence,
                4 => SegmentKind::ConfedSet,
                _ => return None,
            };
            let n = *b.get(1)? as usize;
            if n == 0 {
                return None;
            }
            let raw = b.get(2..2 + n * width)?;
            v.push((kind as u32) << 24 | n as u32);
            v.extend(raw.chunks_exact(width).map(|c| {
                if four {
                    u32::from_be_bytes([c[0], c[1], c[2], c[3]])
                } else {
                    u16::from_be_bytes([c[0], c[1]]) as u32
                }
            }));
            b = &b[2 + n * width..];
        }
        Some(AsPath { data: v.into_boxed_slice() })
    }

    /// RFC 6793 4.2.3: rebuilds the path from a 2-octet-only speaker's
    /// AS_PATH and AS4_PATH.
    pub(super) fn merge_as4(&self, as4: &AsPath) -> AsPath {
        let (n, n4) = (self.count_all(), as4.count_all());
        if n4 > n {
            return self.clone();
        }
        let mut keep = n - n4;
        let mut v = Vec::new();
        for (kind, asns) in self.segments() {
            if keep == 0 {
                break;
            }
            let take = asns.len().min(keep);
            push_segment(&mut v, kind, &asns[..take]);
            keep -= take;
        }
        v.extend_from_slice(&as4.data);
        AsPath { data: v.into_boxed_slice() }
    }
}

fn push_segment(v: &mut Vec<u32>, kind: SegmentKind, asns: &[u32]) {
    if !asns.is_empty() {
        v.push((kind as u32) << 24 | asns.len() as u32);
        v.extend_from_slice(asns);
    }
}

impl<D: AsRef<[u32]>> fmt::Display for AsPath<D> {
    /// FRR's form: `65000 65001 {65002,65003}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (kind, asns) in self.segments() {
            let (open, sep, close) = match kind {
                SegmentKind::Sequence => ("", " ", ""),
                SegmentKind::Set => ("{", ",", "}"),
                SegmentKind::ConfedSequence => ("(", " ", ")"),
                SegmentKind::ConfedSet => ("[", ",", "]"),
            };
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(open)?;
            for (i, a) in asns.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{a}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::packet::AS_TRANS;

    #[test]
    fn as_path_text_and_length() {
        let mut p = AsPath::from_segments([(SegmentKind::Sequence, &[65000, 65001][..]), (SegmentKind::Set, &[1, 2])]);
        assert_eq!(p.to_string(), "65000 65001 {1,2}");
        assert_eq!(p.len(), 3);
        p.prepend(65002, 2);
        assert_eq!(p.to_string(), "65002 65002 65000 65001 {1,2}");
        assert_eq!(p.first_as(), Some(65002));
        assert!(p.contains(2));
        // A set first: the prepend opens a sequence before it.
        let mut q = AsPath::from_segments([(SegmentKind::Set, &[1, 2][..])]);
        q.prepend(7, 1);
        assert_eq!(q.to_string(), "7 {1,2}");
        assert_eq!(q.len(), 2);
        // A full sequence: a new one in front, as 255 ASes fit a segment.
        let mut r = AsPath::sequence(&[9; 255]);
        r.prepend(7, 1);
        assert_eq!(r.segments().map(|(_, a)| a.len()).collect::<Vec<_>>(), [1, 255]);
        let mut wire = Vec::new();
        r.encode(true, &mut wire);
        assert_eq!(AsPath::decode(&wire, true), Some(r));
    }

    #[test]
    fn as4_path_merge() {
        let two = AsPath::sequence(&[65001, AS_TRANS, AS_TRANS]);
        let four = AsPath::sequence(&[4_200_000_001, 4_200_000_002]);
        assert_eq!(two.merge_as4(&four).to_string(), "65001 4200000001 4200000002");
        // An AS4_PATH longer than AS_PATH is ignored.
        assert_eq!(AsPath::sequence(&[1]).merge_as4(&four), AsPath::sequence(&[1]));
    }
}
