//! Tests of the sandbox server over real loopback HTTP.
