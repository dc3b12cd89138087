//! SAM/CloudFormation templates: load with positions, resolve intrinsics, build the typed App model.
