/**
 * Link-state routing defaults (spec 14 §1.1), the reference's values. The
 * layer config (`ls_config_msg`) carries the actual values in seconds.
 * @module
 */

/** Period of the LSDB update pass: refresh own links, age out others (s). */
export const LS_T_UPDATE_S = 15;
/** Age after which a link not refreshed by its advertiser is removed (s). */
export const LS_T_TIMEO_S = 60;
/** Period at which a modified LSDB is turned into new forwarding tables (s). */
export const LS_T_RECALC_S = 4;
/** Routing instances (and PFFs), one per QoS cube: BE, VIDEO, VOICE. */
export const LS_QOS_CUBES = 3;
