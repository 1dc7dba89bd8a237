//! HTTP/JSON adapters and the simulator server (to be written).
