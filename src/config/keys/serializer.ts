/** Keys of the serializer component. */

export const serializerKeys = {};
