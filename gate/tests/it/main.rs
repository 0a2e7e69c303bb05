//! Integration tests of the Gate client against an in-process mock Gate on loopback.
