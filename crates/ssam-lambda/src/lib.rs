//! Lambda Runtime API emulator, invocation lifecycle, instance pools and sandboxes.
