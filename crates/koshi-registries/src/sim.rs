//! Simulators of the registries (to be written).
