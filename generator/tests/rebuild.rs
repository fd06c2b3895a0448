//! Rebuilds after an edit ([`portal_generator::Rebuilder`]): each must leave exactly what a
//! whole build of the same content leaves, rendering only the pages the edit touched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use portal_core::search::Searcher;
use portal_generator::{build, BuildOptions, Rebuilder, Rebuilt};

use crate::common::{now, repo};

/// The demo content copied into a temporary folder, with a rebuilder over it and a second
/// output folder for whole builds to compare with.
struct Editing {
    dir: tempfile::TempDir,
    content: PathBuf,
    rebuilder: Rebuilder,
}

fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// Every file under `root` but the search indexes, by relative path.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap();
            (rel.to_string_lossy().into_owned(), e.path().to_path_buf())
        })
        .filter(|(rel, _)| !rel.starts_with("search") && !rel.starts_with(".build-"))
        .map(|(rel, path)| (rel, std::fs::read(path).unwrap()))
        .collect()
}

/// The URLs a search finds, in order.
fn found(index: &Path, words: &str) -> Vec<String> {
    Searcher::open(index)
        .unwrap()
        .search(words, None, 50, 0)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.url)
        .collect()
}

impl Editing {
    fn new() -> Editing {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        copy_tree(&repo().join("content"), &content);
        let mut opts = BuildOptions::new(
            &content,
            repo().join("themes/default"),
            dir.path().join("out"),
        );
        opts.now = Some(now());
        let mut rebuilder = Rebuilder::new(opts);
        rebuilder.build().unwrap_or_else(|e| panic!("{e}"));
        Editing {
            dir,
            content,
            rebuilder,
        }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.content.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn edit(&self, rel: &str, from: &str, to: &str) -> PathBuf {
        let p = self.content.join(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{rel} holds {from:?}");
        std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
        p
    }

    /// Rebuilds after `changed`, expecting part of a build, and checks the output against a
    /// whole build of the same content: the same files with the same bytes, and the same
    /// search answers to `words`.
    fn rebuilt_as_whole(
        &mut self,
        changed: &[PathBuf],
        words: &[&str],
    ) -> portal_generator::PartReport {
        portal_generator::wait_for_cleanup();
        let report = match self
            .rebuilder
            .rebuild(changed)
            .unwrap_or_else(|e| panic!("{e}"))
        {
            Rebuilt::Part(r) => r,
            other => panic!("expected part of a build, got {other}"),
        };
        let whole = self.dir.path().join("whole");
        let mut opts = BuildOptions::new(&self.content, repo().join("themes/default"), &whole);
        opts.now = Some(now());
        build(&opts).unwrap();
        portal_generator::wait_for_cleanup();
        let (ours, theirs) = (files(&self.out()), files(&whole));
        let ours_names: Vec<&String> = ours.keys().collect();
        let theirs_names: Vec<&String> = theirs.keys().collect();
        assert_eq!(ours_names, theirs_names, "the same files after {changed:?}");
        for (name, bytes) in &ours {
            assert!(
                bytes == &theirs[name],
                "{name} differs from a whole build's after {changed:?}"
            );
        }
        for words in words {
            for index in ["search", "search-customers"] {
                assert_eq!(
                    found(&self.out().join(index), words),
                    found(&whole.join(index), words),
                    "{index} finds the same for {words:?}"
                );
            }
        }
        report
    }
}

#[test]
fn each_kind_of_edit_leaves_what_a_whole_build_leaves() {
    let mut s = Editing::new();
    let rel = "kb/account/change-payment-details.md";

    // A sentence added to one article: that page, and the search entry.
    let p = s.edit(
        rel,
        "or ask us to post one.",
        "or ask us to post one. Quokkas welcome.",
    );
    let r = s.rebuilt_as_whole(&[p], &["quokkas", "mandate"]);
    assert_eq!((r.rendered, r.removed, r.files), (1, 0, 1), "{r}");
    assert!(r.pages > 50, "{r}");
    assert!(
        std::fs::read_to_string(s.out().join("site/kb/change-payment-details.html"))
            .unwrap()
            .contains("Quokkas welcome")
    );
    assert_eq!(
        found(&s.out().join("search"), "quokkas"),
        ["/kb/change-payment-details"]
    );

    // Its title: the cards that list it change too (topic, tags, related articles).
    let p = s.edit(rel, "Change your bank details", "Switch your bank details");
    let r = s.rebuilt_as_whole(&[p], &["switch"]);
    assert!(r.rendered > 2, "{r}");

    // Another topic and new tags: pages for the new ones, none left for the old.
    let p = s.edit(
        rel,
        "topic = \"Account and billing\"",
        "topic = \"Moving house\"",
    );
    let p2 = s.edit(
        rel,
        "tags = [\"billing\", \"direct debit\"]",
        "tags = [\"removals\"]",
    );
    assert_eq!(p, p2);
    s.rebuilt_as_whole(&[p], &["removals", "moving"]);
    assert!(s.out().join("site/kb/topic/moving-house.html").exists());
    assert!(s.out().join("site/kb/tags/removals.html").exists());

    // A new article, then the same one gone.
    let p = s.write(
        "kb/account/wombats.md",
        "+++\ntitle = \"Wombats in the warehouse\"\ntopic = \"Stock\"\ntags = [\"billing\"]\ndate = 2026-11-01\n+++\nCount each wombat once.\n",
    );
    let r = s.rebuilt_as_whole(std::slice::from_ref(&p), &["wombat"]);
    assert!(r.rendered >= 3, "the article, its topic and tag pages: {r}");
    std::fs::remove_file(&p).unwrap();
    let r = s.rebuilt_as_whole(&[p], &["wombat"]);
    assert!(r.removed >= 1, "{r}");
    assert!(!s.out().join("site/kb/wombats.html").exists());
    assert!(found(&s.out().join("search"), "wombat").is_empty());

    // A customers-only article, an event, an FAQ entry and a plain page.
    let p = s.edit(
        "kb/account/price-increase-2027.md",
        "+++\n",
        "+++\n# edited\n",
    );
    s.rebuilt_as_whole(&[p], &["price"]);
    let event = std::fs::read_dir(s.content.join("calendar"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .unwrap();
    let text = std::fs::read_to_string(&event).unwrap();
    std::fs::write(&event, format!("{text}\nBring a platypus.\n")).unwrap();
    s.rebuilt_as_whole(&[event], &["platypus"]);
    let faq = std::fs::read_dir(s.content.join("faq"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .unwrap();
    let text = std::fs::read_to_string(&faq).unwrap();
    std::fs::write(&faq, format!("{text}\nAsk about the echidna.\n")).unwrap();
    s.rebuilt_as_whole(&[faq], &["echidna"]);
    let p = s.edit("pages/about.md", "+++\n", "+++\n# edited\n");
    s.rebuilt_as_whole(&[p], &["about"]);
}

#[test]
fn an_edit_rewrites_only_the_pages_it_touches() {
    let mut s = Editing::new();
    let untouched = s.out().join("site/kb/topic/hardware.html");
    let before = std::fs::metadata(&untouched).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let p = s.edit(
        "kb/account/change-payment-details.md",
        "or ask us to post one.",
        "or ask us to post one, signed.",
    );
    let r = s.rebuilt_as_whole(&[p], &[]);
    assert_eq!(r.rendered, 1, "{r}");
    assert_eq!(
        std::fs::metadata(&untouched).unwrap().modified().unwrap(),
        before,
        "a page of another topic is not written again"
    );
}

#[test]
fn what_is_not_content_is_no_rebuild_and_the_theme_or_settings_are_a_whole_one() {
    let mut s = Editing::new();
    let swap = s.write("kb/account/.change-payment-details.md.swp", "vim");
    let backup = s.write("kb/account/change-payment-details.md~", "emacs");
    assert!(matches!(
        s.rebuilder.rebuild(&[swap, backup]).unwrap(),
        Rebuilt::Nothing
    ));
    let settings = s.edit("site.toml", "\n", "\n\n");
    assert!(matches!(
        s.rebuilder.rebuild(&[settings]).unwrap(),
        Rebuilt::Whole(_)
    ));
    let theme = repo().join("themes/default/templates/page.html");
    assert!(matches!(
        s.rebuilder.rebuild(&[theme]).unwrap(),
        Rebuilt::Whole(_)
    ));
    // A document is copied by a whole build.
    let doc = std::fs::read_dir(s.content.join("documents"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    assert!(matches!(
        s.rebuilder.rebuild(&[doc]).unwrap(),
        Rebuilt::Whole(_)
    ));
    // Nothing named: something changed, but what is not known.
    assert!(matches!(
        s.rebuilder.rebuild(&[]).unwrap(),
        Rebuilt::Whole(_)
    ));
}

#[test]
fn a_broken_edit_keeps_the_site_and_the_next_rebuild_is_whole() {
    let mut s = Editing::new();
    let page = s.out().join("site/kb/change-payment-details.html");
    let before = std::fs::read(&page).unwrap();
    let p = s.edit(
        "kb/account/change-payment-details.md",
        "topic = ",
        "topik = ",
    );
    let e = s
        .rebuilder
        .rebuild(std::slice::from_ref(&p))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("change-payment-details.md") && e.contains("missing field `topic`"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&page).unwrap(),
        before,
        "the last good page stays"
    );
    s.edit(
        "kb/account/change-payment-details.md",
        "topik = ",
        "topic = ",
    );
    assert!(matches!(
        s.rebuilder.rebuild(&[p]).unwrap(),
        Rebuilt::Whole(_)
    ));
    // A link to a page that does not exist is refused before anything is written.
    let p = s.edit(
        "kb/account/change-payment-details.md",
        "or ask us to post one.",
        "or see [nowhere](/kb/nowhere).",
    );
    let e = s.rebuilder.rebuild(&[p]).unwrap_err().to_string();
    assert!(e.contains("/kb/nowhere"), "{e}");
    assert_eq!(std::fs::read(&page).unwrap(), before);
}

#[test]
fn visibility_drafts_and_folders_leave_what_a_whole_build_leaves() {
    let mut s = Editing::new();
    let rel = "kb/account/read-your-invoice.md";
    let p = s.edit(rel, "date = ", "visibility = \"customers\"\ndate = ");
    s.rebuilt_as_whole(&[p], &["invoice"]);
    assert!(!s.out().join("site/kb/read-your-invoice.html").exists());
    assert!(s
        .out()
        .join("private/my/kb/read-your-invoice.html")
        .exists());
    let p = s.edit(rel, "visibility = \"customers\"\n", "draft = true\n");
    s.rebuilt_as_whole(&[p], &["invoice"]);
    assert!(!s
        .out()
        .join("private/my/kb/read-your-invoice.html")
        .exists());

    // A folder of articles added, then removed at once: a whole build, and its pages go.
    let article = |t: &str| {
        format!("+++\ntitle = \"{t}\"\ntopic = \"Extra\"\ndate = 2026-02-01\n+++\n{t}.\n")
    };
    let a = s.write("kb/extra/aardvark.md", &article("Aardvark"));
    let b = s.write("kb/extra/bandicoot.md", &article("Bandicoot"));
    s.rebuilt_as_whole(&[a, b], &["aardvark"]);
    assert!(s.out().join("site/kb/aardvark.html").exists());
    let folder = s.content.join("kb/extra");
    std::fs::remove_dir_all(&folder).unwrap();
    assert!(matches!(
        s.rebuilder.rebuild(&[folder]).unwrap(),
        Rebuilt::Whole(_)
    ));
    assert!(!s.out().join("site/kb/aardvark.html").exists());
    assert!(!s.out().join("site/kb/topic/extra.html").exists());
}

#[test]
fn a_watcher_may_name_a_file_from_the_current_folder_or_through_a_link() {
    // `notify` names files under a relative content folder as the current folder joined
    // with it, `..` and all.
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    copy_tree(&repo().join("content"), &real);
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let cwd = std::env::current_dir().unwrap();
    let ups = cwd.components().count() - 1;
    let relative = PathBuf::from("../".repeat(ups)).join(link.strip_prefix("/").unwrap());
    let mut opts = BuildOptions::new(
        &relative,
        repo().join("themes/default"),
        dir.path().join("out"),
    );
    opts.now = Some(now());
    let mut rebuilder = Rebuilder::new(opts);
    rebuilder.build().unwrap();
    let file = "kb/account/change-payment-details.md";
    for (n, named) in [
        cwd.join(&relative).join(file),
        link.join(file),
        real.join(file),
    ]
    .into_iter()
    .enumerate()
    {
        let text = std::fs::read_to_string(real.join(file)).unwrap();
        std::fs::write(real.join(file), format!("{text}\nNamed way {n}.\n")).unwrap();
        let r = rebuilder.rebuild(std::slice::from_ref(&named)).unwrap();
        assert!(matches!(r, Rebuilt::Part(_)), "{named:?}: {r}");
        let page =
            std::fs::read_to_string(dir.path().join("out/site/kb/change-payment-details.html"))
                .unwrap();
        assert!(page.contains(&format!("Named way {n}.")), "{named:?}");
    }
    // A path outside both folders is not understood: a whole build.
    assert!(matches!(
        rebuilder
            .rebuild(&[dir.path().join("elsewhere.md")])
            .unwrap(),
        Rebuilt::Whole(_)
    ));
}

#[test]
fn editors_temporary_files_and_hidden_folders_are_not_content() {
    let mut s = Editing::new();
    // vim checks it may write in a folder with a file named 4913, gone at once.
    let probe = s.write("kb/account/4913", "");
    std::fs::remove_file(&probe).unwrap();
    let lock = s.write(".git/index.lock", "");
    let hidden = s.write(
        "kb/.drafts/secret.md",
        "+++\ntitle = \"Secret\"\ntopic = \"X\"\ndate = 2026-01-01\n+++\nHidden.\n",
    );
    assert!(matches!(
        s.rebuilder.rebuild(&[probe, lock, hidden]).unwrap(),
        Rebuilt::Nothing
    ));
    s.rebuilder.build().unwrap();
    assert!(
        !s.out().join("site/kb/secret.html").exists(),
        "a whole build skips hidden folders too"
    );
}

#[test]
fn two_faq_entries_with_one_anchor_are_refused() {
    let mut s = Editing::new();
    let faq = std::fs::read_dir(s.content.join("faq"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .unwrap();
    let name = faq.file_name().unwrap().to_string_lossy().to_uppercase();
    let twin = faq.with_file_name(name.replace(".MD", ".md"));
    std::fs::copy(&faq, &twin).unwrap();
    let e = s
        .rebuilder
        .rebuild(std::slice::from_ref(&twin))
        .unwrap_err()
        .to_string();
    assert!(e.contains("another FAQ entry already uses the name"), "{e}");
    std::fs::remove_file(&twin).unwrap();
    assert!(matches!(
        s.rebuilder.rebuild(&[twin]).unwrap(),
        Rebuilt::Whole(_)
    ));
}
