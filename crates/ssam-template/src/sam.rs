pub fn load(_o: &crate::LoadOptions) -> Result<crate::Loaded, crate::Diagnostics> { Err(crate::Diagnostics::default()) }
