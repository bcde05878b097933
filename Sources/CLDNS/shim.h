#ifndef DNSPROP_CLDNS_SHIM_H
#define DNSPROP_CLDNS_SHIM_H
/* stdbool.h must come first: without it ldns defines bool as signed char
   and Swift would see Int8 where the C API means a boolean. */
#include <stdbool.h>
#include <stdlib.h>
#include <ldns/ldns.h>
#endif
