//! Just enough ELF to tell a static executable from a dynamic one.
//!
//! The image has no libc and no loader, so a binary with a PT_INTERP program
//! header (a dynamic one) would fail to start there with a baffling
//! "no such file or directory".

#[derive(Debug, PartialEq, Eq)]
pub enum Linkage {
    Static,
    Dynamic { interpreter: String },
}

const PT_INTERP: u32 = 3;

pub fn linkage(data: &[u8]) -> Result<Linkage, String> {
    if data.len() < 64 || &data[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if data[4] != 2 || data[5] != 1 {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let bytes = |o: usize, n: usize| data.get(o..o.checked_add(n)?);
    let u16_at = |o: usize| bytes(o, 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |o: usize| bytes(o, 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes);
    let u64_at = |o: usize| bytes(o, 8).and_then(|b| b.try_into().ok()).map(|b| u64::from_le_bytes(b) as usize);
    let truncated = || "truncated ELF header".to_string();
    let phoff = u64_at(0x20).ok_or_else(truncated)?;
    let phentsize = u16_at(0x36).ok_or_else(truncated)?;
    let phnum = u16_at(0x38).ok_or_else(truncated)?;
    for i in 0..phnum {
        let ph = phoff.checked_add(i.checked_mul(phentsize).ok_or_else(truncated)?).ok_or_else(truncated)?;
        if u32_at(ph).ok_or_else(truncated)? == PT_INTERP {
            let off = u64_at(ph.saturating_add(8)).ok_or_else(truncated)?;
            let size = u64_at(ph.saturating_add(32)).ok_or_else(truncated)?;
            let raw = data.get(off..off.saturating_add(size)).ok_or_else(truncated)?;
            let interpreter = String::from_utf8_lossy(raw).trim_end_matches('\0').to_string();
            return Ok(Linkage::Dynamic { interpreter });
        }
    }
    Ok(Linkage::Static)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_tools_are_dynamic() {
        // /bin/sh on Debian is a dynamic executable with ld-linux as interpreter.
        let sh = std::fs::read("/bin/sh").unwrap();
        assert!(matches!(linkage(&sh), Ok(Linkage::Dynamic { interpreter }) if interpreter.contains("ld-")));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(linkage(b"hello").is_err());
        let mut fake = vec![0u8; 64];
        fake[..4].copy_from_slice(b"\x7fELF");
        fake[4] = 2;
        fake[5] = 1;
        fake[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes());
        fake[0x38] = 1;
        assert!(linkage(&fake).is_err());
    }
}
