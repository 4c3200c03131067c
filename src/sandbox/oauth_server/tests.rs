//! Tests of the OAuth sandbox over real loopback HTTP.
