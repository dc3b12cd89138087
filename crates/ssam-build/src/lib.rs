//! ssam build: Zip packaging and image builds.
