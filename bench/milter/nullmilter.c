/*
 * nullmilter.c - the cheapest possible milter, as a yardstick for
 * bench.py: it negotiates the same protocol steps as spamtrace's milter
 * (no replies for connect, HELO, RCPT, headers, end of headers; no DATA
 * and unknown commands; SMFIS_SKIP for the body) and adds one constant
 * header at the end of each message.  What it costs Postfix is the price
 * of the milter protocol itself; the difference to spamtrace's milter is
 * what the analysis costs.
 *
 *	cc -O2 -o nullmilter nullmilter.c -lmilter
 *	nullmilter unix:/path/to.sock
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <string.h>

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = f1 & (SMFIP_SKIP | SMFIP_NR_CONN | SMFIP_NR_HELO |
	    SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NOUNKNOWN |
	    SMFIP_NODATA);
	*pf2 = *pf3 = 0;
	smfi_setpriv(ctx, (void *)*pf1);
	return SMFIS_CONTINUE;
}

static sfsistat
nm_step(SMFICTX *ctx, unsigned long flag)
{
	return ((unsigned long)smfi_getpriv(ctx) & flag) ? SMFIS_NOREPLY :
	    SMFIS_CONTINUE;
}

static sfsistat nm_connect(SMFICTX *c, char *h, _SOCK_ADDR *a)
{ return nm_step(c, SMFIP_NR_CONN); }
static sfsistat nm_helo(SMFICTX *c, char *h) { return nm_step(c, SMFIP_NR_HELO); }
static sfsistat nm_rcpt(SMFICTX *c, char **a) { return nm_step(c, SMFIP_NR_RCPT); }
static sfsistat nm_header(SMFICTX *c, char *n, char *v)
{ return nm_step(c, SMFIP_NR_HDR); }
static sfsistat nm_eoh(SMFICTX *c) { return nm_step(c, SMFIP_NR_EOH); }
static sfsistat nm_body(SMFICTX *c, unsigned char *p, size_t n)
{ return ((unsigned long)smfi_getpriv(c) & SMFIP_SKIP) ? SMFIS_SKIP :
    SMFIS_CONTINUE; }
static sfsistat nm_eom(SMFICTX *c)
{
	smfi_addheader(c, "X-Null-Milter", "yes");
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc d;

	if (argc != 2) {
		fprintf(stderr, "usage: nullmilter SOCKET\n");
		return 2;
	}
	memset(&d, 0, sizeof(d));
	d.xxfi_name = "nullmilter";
	d.xxfi_version = SMFI_VERSION;
	d.xxfi_flags = SMFIF_ADDHDRS;
	d.xxfi_connect = nm_connect;
	d.xxfi_helo = nm_helo;
	d.xxfi_envrcpt = nm_rcpt;
	d.xxfi_header = nm_header;
	d.xxfi_eoh = nm_eoh;
	d.xxfi_body = nm_body;
	d.xxfi_eom = nm_eom;
	d.xxfi_negotiate = nm_negotiate;
	if (smfi_register(d) != MI_SUCCESS || smfi_setconn(argv[1]) !=
	    MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
