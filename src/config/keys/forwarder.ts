/** Keys of the forwarder component. */

export const forwarderKeys = {};
