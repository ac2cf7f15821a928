//! Never built: this package only names crates to vendor.
