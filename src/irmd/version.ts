/** Version reported by `--version` and the daemon's hello. */
export const OURO_VERSION = "0.1.0";
