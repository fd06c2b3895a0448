//! What a zip-based file holds. Office Open XML (`.docx`, `.xlsx`, `.pptx`) and OpenDocument
//! (`.odt`, `.ods`) files are zip archives with a known manifest; a plain `.zip` is accepted
//! too. Each is opened and every entry looked at without unpacking it to disk: macro-enabled
//! documents, programs (by their name or their first bytes), encrypted entries, names that
//! climb out of the archive and archives nested too deep are refused.

use std::io::{Cursor, Read};

use zip::ZipArchive;

/// The most entries an archive may hold.
const MAX_ENTRIES: usize = 10_000;
/// How deep archives may nest (an Office document embeds its charts' workbooks as `.xlsx`).
const MAX_DEPTH: usize = 2;
/// The largest nested archive read into memory to be looked at.
const MAX_NESTED_BYTES: u64 = 10 * 1024 * 1024;

/// Endings of files that run when opened.
const PROGRAMS: &[&str] = &[
    "exe", "dll", "com", "bat", "cmd", "scr", "pif", "cpl", "msi", "msp", "ps1", "vbs", "vbe",
    "js", "jse", "wsf", "wsh", "hta", "jar", "lnk", "reg", "sh", "app", "apk", "dmg", "pkg", "deb",
    "rpm", "iso", "elf", "so", "dylib",
];

/// The first bytes of programs: Windows, ELF, Mach-O (both orders, and universal), scripts.
const PROGRAM_MAGIC: &[&[u8]] = &[
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
];

/// The media type of the zip-based file `bytes`, or why it is refused (words that follow
/// the file's name: "holds a program (`setup.exe`)").
///
/// ```
/// use portal_functions::uploads::judge_archive;
/// assert_eq!(judge_archive(b"PK\x05\x06 not really"), Err("is not a readable zip archive".to_string()));
/// ```
pub fn judge_archive(bytes: &[u8]) -> Result<&'static str, String> {
    let mut archive =
        ZipArchive::new(Cursor::new(bytes)).map_err(|_| "is not a readable zip archive")?;
    let names = look_inside(&mut archive, 0)?;
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("[Content_Types].xml") {
        return if has("word/document.xml") {
            Ok("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        } else if has("xl/workbook.xml") {
            Ok("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        } else if has("ppt/presentation.xml") {
            Ok("application/vnd.openxmlformats-officedocument.presentationml.presentation")
        } else {
            Err("is an Office file of a kind we do not accept (docx, xlsx and pptx are)".into())
        };
    }
    if names.first().is_some_and(|n| n == "mimetype") {
        let mut kind = String::new();
        let read = archive
            .by_index(0)
            .ok()
            .and_then(|f| f.take(100).read_to_string(&mut kind).ok());
        return match (read, kind.trim()) {
            (Some(_), "application/vnd.oasis.opendocument.text") => {
                Ok("application/vnd.oasis.opendocument.text")
            }
            (Some(_), "application/vnd.oasis.opendocument.spreadsheet") => {
                Ok("application/vnd.oasis.opendocument.spreadsheet")
            }
            _ => Err("is an OpenDocument file of a kind we do not accept (odt and ods are)".into()),
        };
    }
    Ok("application/zip")
}

/// Checks every entry of `archive` (and of archives inside it, `depth` deep so far); the
/// entries' names.
fn look_inside<R: Read + std::io::Seek>(
    archive: &mut ZipArchive<R>,
    depth: usize,
) -> Result<Vec<String>, String> {
    if archive.len() > MAX_ENTRIES {
        return Err(format!("holds more than {MAX_ENTRIES} files"));
    }
    let mut names = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|_| "is a damaged zip archive".to_string())?;
        let name = entry
            .name()
            .map_err(|_| "is a damaged zip archive".to_string())?
            .to_string();
        if entry.encrypted() {
            return Err(format!(
                "holds an encrypted file (`{name}`), which cannot be checked"
            ));
        }
        if entry.enclosed_name().is_none() {
            return Err(format!(
                "holds a file whose name leads outside the archive (`{name}`)"
            ));
        }
        let lower = name.to_ascii_lowercase();
        let base = lower.rsplit('/').next().unwrap_or("");
        if base == "vbaproject.bin" || base.ends_with(".vba") {
            return Err("is macro-enabled; save it without macros and send it again".into());
        }
        if lower.starts_with("basic/") && !entry.is_dir() && base != "script-lc.xml" {
            return Err("holds macros; save it without macros and send it again".into());
        }
        if let Some((_, ext)) = base.rsplit_once('.') {
            if PROGRAMS.contains(&ext) {
                return Err(format!("holds a program (`{name}`)"));
            }
        }
        drop(entry);
        if lower == "[content_types].xml" && declares_macros(archive, i) {
            return Err("is macro-enabled; save it without macros and send it again".into());
        }
        let mut entry = archive
            .by_index(i)
            .map_err(|_| format!("holds a file that cannot be read (`{name}`)"))?;
        let mut head = [0u8; 4];
        let n = read_up_to(&mut entry, &mut head);
        let head = &head[..n];
        if PROGRAM_MAGIC.iter().any(|m| head.starts_with(m)) {
            return Err(format!("holds a program (`{name}`)"));
        }
        if head.starts_with(b"PK\x03\x04") {
            if depth + 1 >= MAX_DEPTH || entry.size() > MAX_NESTED_BYTES {
                return Err(format!(
                    "holds archives nested too deep to check (`{name}`)"
                ));
            }
            let mut inner = head.to_vec();
            entry
                .take(MAX_NESTED_BYTES)
                .read_to_end(&mut inner)
                .map_err(|_| format!("holds a file that cannot be read (`{name}`)"))?;
            let mut nested = ZipArchive::new(Cursor::new(inner))
                .map_err(|_| format!("holds a damaged archive (`{name}`)"))?;
            look_inside(&mut nested, depth + 1)
                .map_err(|why| format!("holds `{name}`, which {why}"))?;
        }
        names.push(name);
    }
    Ok(names)
}

/// Whether the Office manifest at entry `i` names a macro-enabled content type.
fn declares_macros<R: Read + std::io::Seek>(archive: &mut ZipArchive<R>, i: usize) -> bool {
    let mut text = String::new();
    archive
        .by_index(i)
        .ok()
        .and_then(|f| f.take(1024 * 1024).read_to_string(&mut text).ok());
    text.to_ascii_lowercase().contains("macroenabled")
}

/// Reads as much of `buf` as `r` has.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    /// A zip of `entries` (name, content), stored without compression.
    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const TYPES: &[u8] =
        b"<Types><Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>";

    #[test]
    fn office_and_opendocument_files_are_known_by_their_manifest() {
        let xlsx = zip_of(&[("[Content_Types].xml", TYPES), ("xl/workbook.xml", b"<w/>")]);
        assert!(judge_archive(&xlsx)
            .unwrap()
            .ends_with("spreadsheetml.sheet"));
        let docx = zip_of(&[
            ("[Content_Types].xml", TYPES),
            ("word/document.xml", b"<d/>"),
        ]);
        assert!(judge_archive(&docx)
            .unwrap()
            .ends_with("wordprocessingml.document"));
        let odt = zip_of(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<c/>"),
        ]);
        assert_eq!(
            judge_archive(&odt).unwrap(),
            "application/vnd.oasis.opendocument.text"
        );
        let plain = zip_of(&[("notes/readme.txt", b"hello"), ("shot.png", b"\x89PNG")]);
        assert_eq!(judge_archive(&plain).unwrap(), "application/zip");
        // A document with a chart embeds the chart's workbook.
        let chart = zip_of(&[
            ("[Content_Types].xml", TYPES),
            ("word/document.xml", b"<d/>"),
            ("word/embeddings/Sheet1.xlsx", &xlsx),
        ]);
        assert!(judge_archive(&chart).is_ok());
    }

    #[test]
    fn macros_programs_and_hidden_tricks_are_refused() {
        let xlsm = zip_of(&[
            ("[Content_Types].xml", TYPES),
            ("xl/workbook.xml", b"<w/>"),
            ("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0"),
        ]);
        assert!(judge_archive(&xlsm).unwrap_err().contains("macro-enabled"));
        let declared = zip_of(&[
            (
                "[Content_Types].xml",
                b"<Types><Override ContentType=\"application/vnd.ms-excel.sheet.macroEnabled.main+xml\"/></Types>",
            ),
            ("xl/workbook.xml", b"<w/>"),
        ]);
        assert!(judge_archive(&declared)
            .unwrap_err()
            .contains("macro-enabled"));
        let named = zip_of(&[("invoice.pdf.exe", b"whatever")]);
        assert_eq!(
            judge_archive(&named).unwrap_err(),
            "holds a program (`invoice.pdf.exe`)"
        );
        let renamed = zip_of(&[("photo.jpg", b"MZ\x90\x00binary")]);
        assert_eq!(
            judge_archive(&renamed).unwrap_err(),
            "holds a program (`photo.jpg`)"
        );
        let inner = zip_of(&[("run.sh", b"echo")]);
        let outer = zip_of(&[("docs.zip", &inner)]);
        assert!(judge_archive(&outer)
            .unwrap_err()
            .contains("holds `docs.zip`, which holds a program"));
        let deep = zip_of(&[("a.zip", &zip_of(&[("b.zip", &zip_of(&[("c.txt", b"x")]))]))]);
        assert!(judge_archive(&deep)
            .unwrap_err()
            .contains("nested too deep"));
        let climbing = zip_of(&[("../../etc/cron.d/x", b"x")]);
        assert!(judge_archive(&climbing)
            .unwrap_err()
            .contains("leads outside"));
        assert!(judge_archive(b"PK\x03\x04 broken").is_err());
    }
}
