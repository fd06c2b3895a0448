//! The search index's English text analysis: words split on non-alphanumerics, very long
//! tokens dropped, lower-cased and Snowball-stemmed, as tantivy's `en_stem` does — with the
//! stems memoised, since natural text repeats a small vocabulary and stemming dominates the
//! cost of indexing and of a search's snippets. The memo is one per thread, shared by every
//! copy of the analyser (tantivy hands each search a fresh copy).

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::mem;

use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token, TokenFilter, TokenStream,
    Tokenizer,
};

/// The name the index's text fields use for this analyser.
pub const NAME: &str = "portal_en";

/// Entries a cache holds before it starts afresh.
const CACHE_LIMIT: usize = 200_000;

/// The analyser to register under [`NAME`], when writing and when reading.
pub fn english() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(CachedStemmer)
        .build()
}

type Stems = HashMap<String, String, BuildHasherDefault<rustc_hash::FxHasher>>;

thread_local! {
    /// This thread's stems so far.
    static STEMS: RefCell<Stems> = RefCell::new(Stems::default());
}

/// English Snowball stemming with a per-thread cache of stems.
#[derive(Clone, Copy)]
pub struct CachedStemmer;

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter { inner: tokenizer }
    }
}

/// [`CachedStemmer`] applied to a tokenizer.
#[derive(Clone)]
pub struct CachedStemmerFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

/// The token stream of [`CachedStemmerFilter`].
pub struct CachedStemmerStream<S> {
    tail: S,
    stemmer: frostem::Stemmer,
}

impl<S: TokenStream> TokenStream for CachedStemmerStream<S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        let stemmer = &self.stemmer;
        STEMS.with(|stems| {
            let mut stems = stems.borrow_mut();
            if let Some(stem) = stems.get(&token.text) {
                token.text.clear();
                token.text.push_str(stem);
            } else {
                if stems.len() >= CACHE_LIMIT {
                    stems.clear();
                }
                let stem = stemmer.stem(&token.text).into_owned();
                let word = mem::replace(&mut token.text, stem.clone());
                stems.insert(word, stem);
            }
        });
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut a = english();
        let mut reference = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(tantivy::tokenizer::Stemmer::new(
                tantivy::tokenizer::Language::English,
            ))
            .build();
        let mut out = Vec::new();
        let mut s = a.token_stream(text);
        while let Some(t) = s.next() {
            out.push(t.text.clone());
        }
        let mut expected = Vec::new();
        let mut r = reference.token_stream(text);
        while let Some(t) = r.next() {
            expected.push(t.text.clone());
        }
        assert_eq!(out, expected, "same stems as tantivy's own stemmer");
        out
    }

    #[test]
    fn stems_like_en_stem_cached_or_not() {
        let text = "Refunding refunds: the printers printed, printing again. Refunding!";
        assert_eq!(
            tokens(text),
            ["refund", "refund", "the", "printer", "print", "print", "again", "refund"]
        );
    }
}
