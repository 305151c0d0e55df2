/*
 * received_int.h - internals shared by the Received parser's files.
 */
#ifndef ST_RECEIVED_INT_H
#define ST_RECEIVED_INT_H

/* Longest normalised address text: INET6_ADDRSTRLEN (46) and a margin. */
#define ST_IP_TEXT	64

#endif
