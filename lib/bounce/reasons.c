/*
 * reasons.c - why a delivery failed, in Sisimai's vocabulary: the data
 * tables and the small function that applies them.
 *
 * DESCRIPTION
 *	st_bounce_reason() looks, in this order, at:
 *	0. the diagnostic text, against PHRASES_TOP: wording specific
 *	   enough to settle it whatever the code says (a local delivery
 *	   program's name, a provider's documented code such as Orange's
 *	   OFR_506, KDDI's "550 : User unknown" for its filter);
 *	1. the diagnostic text, against PHRASES_STRONG: phrases that say
 *	   plainly what happened ("mailbox full", "user unknown",
 *	   "relay access denied").  A mail server's words are more precise
 *	   than the code it chose, which is often a generic 5.0.0 / 5.7.1 /
 *	   550 (RFC 3463 section 1: "the detail code ... may be generic").
 *	2. the RFC 3463 status code, against STATUS_TABLE (exact code, then
 *	   class.subject with any detail);
 *	3. the text again, against PHRASES_WEAK (words such as "rejected",
 *	   "refused" that only say which side said no);
 *	4. the SMTP reply code, against REPLY_TABLE (RFC 5321 4.2.2 and
 *	   4.2.3 meanings: 552 storage, 551 user not local, 530/535 auth);
 *	PHRASES_GAVEUP ("could not be delivered for 5 days") only when no
 *	other phrase says what failed while the MTA retried.  The phrases
 *	are all looked for in one pass over the text (an index by their
 *	first two bytes, built once), not one substring search each.
 *	and answers "onhold" when there was a code but nothing decisive, and
 *	"undefined" when nothing at all.
 *
 * SOURCES OF FACTS
 *	STATUS_TABLE: RFC 3463 (Enhanced Mail System Status Codes) and its
 *	updates in the IANA "Enumerated Status Codes" registry: RFC 3886,
 *	RFC 4468, RFC 4865, RFC 4954, RFC 5248, RFC 7372 (X.7.20 - X.7.26:
 *	DKIM, SPF, reverse DNS), RFC 7505 (X.1.10, X.7.27: null MX),
 *	RFC 8689 (X.7.30 REQUIRETLS), RFC 8617 (X.7.29 ARC).
 *	REPLY_TABLE: RFC 5321 4.2.2 / 4.2.3, RFC 4954 (530, 535, 538).
 *	PHRASES_*: written for this project from the wording of the bounces
 *	that MTAs and providers send (sendmail, Postfix, qmail, Exim,
 *	Exchange, Gmail, Yahoo, the Japanese carriers ...), as seen in the
 *	public set-of-emails corpus and in the MTAs' own documentation.
 *	The reason names are Sisimai's vocabulary (its documentation lists
 *	them); no code or pattern was taken from Sisimai.
 *
 * LIMITS
 *	The text is examined up to ST_MAX_REASON_TEXT bytes, lower-cased and
 *	with runs of white space made one space; phrases are plain
 *	substrings (no regular expressions: nothing to blow up).
 */
#include <ctype.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce/bounce_int.h"
#include "spamtrace/limits.h"

struct phrase {
	const char *reason;
	const char *text;	/* lower case, single spaces */
};

/*
 * Checked first, in order: the first phrase found decides.  Specific
 * before general: "mailbox full" before "rejected", a blocklist name
 * before the word "spam", "cannot find your hostname" before "client
 * host rejected".
 */
static const struct phrase PHRASES_TOP[] = {
	/* wording specific enough to settle it whatever else is said */
	{ "mailererror", "mailer error" },
	{ "mailererror", "command output" },
	{ "blocked", "please use the smtp server of your isp" },
	{ "blocked", "my name was rejected" },
	{ "blocked", "invalid ip for sending" },
	{ "speeding", "sent to too many recipients" },
	{ "spamdetected", "spam classification" },
	{ "suspend", "temporary locked" },
	{ "suspend", "temporarily locked" },
	{ "filtered", "recipient preferences" },
	{ "rejected", "permission to post" },
	{ "rejected", "投稿する権限" },
	{ "rejected", "not have permission" },
	{ "rejected", "don't have permission" },
	{ "notaccept", "doesn't receive email" },
	{ "notaccept", "does not receive email" },
	{ "notaccept", "no smtp service" },
	{ "notcompliantrfc", "not rfc 5322 compliant" },
	{ "notcompliantrfc", "rfc 5322 compliant" },
	{ "userunknown", "check if address is correct" },
	{ "spamdetected", "content rejected" },
	{ "failedstarttls", "does not support tls" },
	{ "spamdetected", "scored as spam" },
	{ "failedstarttls", "doesn't support tls" },
	/* a local delivery program's own words (procmail, maildrop) */
	{ "mailererror", "procmail:" },
	{ "mailererror", "maildrop:" },
	/* KDDI (au, ezweb.ne.jp) answers "550 : User unknown", with no
	 * address, when the recipient's own filter refused the message
	 * (an unknown user gets "550 <address>: User unknown") */
	{ "filtered", "550 : user unknown" },
	/* Exim's "service permits N unverifyable sending IPs": the sending
	 * host's name does not check out */
	{ "requireptr", "unverifyable sending ip" },
	{ "requireptr", "unverifiable sending ip" },
	/* amavis: "Reject, id=NNNNN-NN - SPAM" */
	{ "spamdetected", " - spam" },
	/* cPanel Exim's catch-all for a domain that cannot be reached */
	{ "hostunknown", "account or domain may not exist" },
	/* GoDaddy (IB506): the From: header's domain is invalid */
	{ "rejected", "provide a valid from" },
	/* Exchange Online 5.1.10 RecipientNotFound (not a null MX) */
	{ "userunknown", "address wasn't found at" },
	{ "userunknown", "address wasn\xe2\x80\x99t found at" },
	/* Amazon SES sandbox: the sending identity is not verified */
	{ "norelaying", "email address is not verified" },
	/* Yahoo TSS04: deferred for the sender's complaint rate */
	{ "badreputation", "unexpected volume or user complaints" },
	/* Mimecast's documented rejections */
	{ "policyviolation", "host network not allowed" },
	{ "virusdetected", "mcspamsignature" },
	/* Orange (France Telecom) code 506: judged to be spam */
	{ "spamdetected", "ofr_506" },
	/* an SMTP banner refusing the session: the client is refused */
	{ "blocked", "esmtp not accepting connections" },
	/* qmail / Postfix: no MX and no address for the domain */
	{ "notaccept", "couldn't find a mail exchanger" },
	{ "notaccept", "malformed or unexpected name server reply" },
	/* iMail: "Delivery failed 20 attempts" */
	{ "expired", "delivery failed # attempts" },
};

/* Then these, where a phrase that agrees with the status code wins. */
static const struct phrase PHRASES_STRONG[] = {

	/* the message carried a virus */
	{ "virusdetected", "virus detected" },
	{ "virusdetected", "virus found" },
	{ "virusdetected", "contains a virus" },
	{ "virusdetected", "infected with" },
	{ "virusdetected", "malware" },
	{ "virusdetected", "virus infected" },

	/* the recipient's mailbox has no room */
	{ "mailboxfull", "mailbox full" },
	{ "mailboxfull", "mailbox exceeded" },
	{ "mailboxfull", "mailbox is full" },
	{ "mailboxfull", "mail box full" },
	{ "mailboxfull", "mailbox has exceeded" },
	{ "mailboxfull", "mailbox size limit" },
	{ "mailboxfull", "mailbox would exceed" },
	{ "mailboxfull", "mailbox exceeds" },
	{ "mailboxfull", "mailbox is over" },
	{ "mailboxfull", "mailfolder is full" },
	{ "mailboxfull", "inbox is full" },
	{ "mailboxfull", "account is full" },
	{ "mailboxfull", "over quota" },
	{ "mailboxfull", "overquota" },
	{ "mailboxfull", "over the quota" },
	{ "mailboxfull", "quota exceeded" },
	{ "mailboxfull", "exceeded quota" },
	{ "mailboxfull", "quota exceed" },
	{ "mailboxfull", "exceeded the quota" },
	{ "mailboxfull", "exceeds the quota" },
	{ "mailboxfull", "exceed the quota" },
	{ "mailboxfull", "quota full" },
	{ "mailboxfull", "disk quota" },
	{ "mailboxfull", "storage quota" },
	{ "mailboxfull", "exceeded storage" },
	{ "mailboxfull", "exceeded its storage" },
	{ "mailboxfull", "exceeded the storage" },
	{ "mailboxfull", "not enough storage space" },
	{ "mailboxfull", "mailbox quota" },
	{ "mailboxfull", "user has exceeded" },
	{ "mailboxfull", "user is over" },
	{ "mailboxfull", "too much mail data" },
	{ "mailboxfull", "out of storage" },
	{ "mailboxfull", "maildir over" },
	{ "mailboxfull", "insufficient storage in the mailbox" },
	{ "mailboxfull", "is out of space" },
	{ "mailboxfull", "exceeding its mailbox" },

	/* the message is bigger than allowed */
	{ "mesgtoobig", "message too big" },
	{ "mesgtoobig", "message too large" },
	{ "mesgtoobig", "message is too large" },
	{ "mesgtoobig", "message is too big" },
	{ "mesgtoobig", "message size exceeds" },
	{ "mesgtoobig", "message exceeds maximum" },
	{ "mesgtoobig", "message length exceeds" },
	{ "mesgtoobig", "message is larger than" },
	{ "mesgtoobig", "size of the message exceeds" },
	{ "mesgtoobig", "exceeds size limit" },
	{ "mesgtoobig", "exceeds the size limit" },
	{ "mesgtoobig", "exceeded the size limit" },
	{ "mesgtoobig", "maximum message size" },
	{ "mesgtoobig", "size limit exceeded" },
	{ "mesgtoobig", "mail size limit" },
	{ "mesgtoobig", "message size limit" },

	/* too many recipients or messages for a limit */
	{ "exceedlimit", "recipient limit" },

	/* the account exists but is closed or suspended */
	{ "suspend", "mailbox disabled" },
	{ "suspend", "inactive email address" },
	{ "suspend", "inactive address" },
	{ "suspend", "account is blocked" },
	{ "suspend", "mailbox is disabled" },
	{ "suspend", "account disabled" },
	{ "suspend", "account is disabled" },
	{ "suspend", "account has been disabled" },
	{ "suspend", "has been disabled" },
	{ "suspend", "account is inactive" },
	{ "suspend", "mailbox is inactive" },
	{ "suspend", "inactive account" },
	{ "suspend", "inactive user" },
	{ "suspend", "account inactive" },
	{ "suspend", "mailbox inactive" },
	{ "suspend", "account has been suspended" },
	{ "suspend", "account is suspended" },
	{ "suspend", "suspended account" },
	{ "suspend", "mailbox suspended" },
	{ "suspend", "recipient suspended" },
	{ "suspend", "temporarily suspended" },
	{ "suspend", "has been suspended" },
	{ "suspend", "is suspended" },
	{ "suspend", "account expired" },
	{ "suspend", "account has expired" },
	{ "suspend", "account closed" },
	{ "suspend", "account is closed" },
	{ "suspend", "mailbox is frozen" },
	{ "suspend", "account is frozen" },
	{ "suspend", "has been frozen" },
	{ "suspend", "not an active" },
	{ "suspend", "is not active" },
	{ "suspend", "deactivated" },
	{ "suspend", "discontinued" },
	{ "suspend", "account is locked" },
	{ "suspend", "account has been locked" },
	{ "suspend", "mailbox unavailable: inactive" },

	/* the recipient has moved */
	{ "hasmoved", "has moved" },
	{ "hasmoved", "address has changed" },
	{ "hasmoved", "user not local; please try" },
	{ "hasmoved", "no longer at this address" },

	/* the server does not relay for us */
	{ "norelaying", "relay access denied" },
	{ "norelaying", "not configured to relay" },
	{ "norelaying", "relaying denied" },
	{ "norelaying", "relaying not allowed" },
	{ "norelaying", "relaying not permitted" },
	{ "norelaying", "relaying is not allowed" },
	{ "norelaying", "relaying mail to" },
	{ "norelaying", "relay not permitted" },
	{ "norelaying", "relay denied" },
	{ "norelaying", "relay prohibited" },
	{ "norelaying", "not permitted to relay" },
	{ "norelaying", "not allowed to relay" },
	{ "norelaying", "unable to relay" },
	{ "norelaying", "we do not relay" },
	{ "norelaying", "no relaying" },
	{ "norelaying", "mail relay denied" },
	{ "norelaying", "isn't in my list of allowed rcpthosts" },
	{ "norelaying", "not in my list of allowed rcpthosts" },
	{ "norelaying", "isn't allowed to relay" },
	{ "norelaying", "relay access is denied" },
	{ "norelaying", "attempted to relay" },

	/* the sending host has no or a bad reverse name */
	{ "requireptr", "cannot find your hostname" },
	{ "requireptr", "mismatches client ip" },
	{ "requireptr", "cannot find your reverse hostname" },
	{ "requireptr", "reverse dns" },
	{ "requireptr", "reverse-dns" },
	{ "requireptr", "reverse lookup" },
	{ "requireptr", "reverse hostname" },
	{ "requireptr", "reverse name" },
	{ "requireptr", "no ptr" },
	{ "requireptr", "ptr record" },
	{ "requireptr", "ptr lookup" },
	{ "requireptr", "rdns" },
	{ "requireptr", "cannot resolve your address" },
	{ "requireptr", "cannot resolve your hostname" },
	{ "requireptr", "hostname lookup failed" },
	{ "requireptr", "no reverse" },
	{ "requireptr", "does not have a reverse" },
	{ "requireptr", "unresolvable ip" },
	{ "requireptr", "ip name lookup failed" },
	{ "requireptr", "domain name of your ip" },
	{ "requireptr", "host name of your ip" },
	{ "requireptr", "dynamic ip" },
	{ "requireptr", "dynamic address" },
	{ "requireptr", "dynamic-ip" },
	{ "requireptr", "dialup" },
	{ "requireptr", "dial-up" },
	{ "requireptr", "residential" },
	{ "requireptr", "generic hostname" },
	{ "requireptr", "generic reverse" },

	/* SPF, DKIM, DMARC said no */
	{ "authfailure", "spf check" },
	{ "authfailure", "does not have authentication information" },
	{ "authfailure", "spf fail" },
	{ "authfailure", "spf validation" },
	{ "authfailure", "spf record" },
	{ "authfailure", "spf=fail" },
	{ "authfailure", "spf: " },
	{ "authfailure", "sender policy framework" },
	{ "authfailure", "does not designate" },
	{ "authfailure", "not designated" },
	{ "authfailure", "dkim" },
	{ "authfailure", "dmarc" },
	{ "authfailure", "unauthenticated email" },
	{ "authfailure", "unauthenticated mail" },
	{ "authfailure", "authentication checks" },
	{ "authfailure", "sender authentication" },
	{ "authfailure", "sender id" },
	{ "authfailure", "sender-id" },
	{ "authfailure", "auth-failure" },

	/* TLS or SMTP authentication required or failed */
	{ "failedstarttls", "starttls failed" },
	{ "failedstarttls", "tls negotiation failed" },
	{ "failedstarttls", "tls handshake failed" },
	{ "securityerror", "must issue a starttls" },
	{ "securityerror", "unauthenticated senders" },
	{ "securityerror", "must issue starttls" },
	{ "securityerror", "encryption required" },
	{ "securityerror", "tls required" },
	{ "securityerror", "requires tls" },
	{ "securityerror", "authentication required" },
	{ "securityerror", "authentication is required" },
	{ "securityerror", "authentication failed" },
	{ "securityerror", "authentication credentials invalid" },
	{ "securityerror", "auth required" },
	{ "securityerror", "login failed" },
	{ "securityerror", "invalid credentials" },
	{ "securityerror", "unauthorized sender" },
	{ "securityerror", "user not authenticated" },
	{ "securityerror", "security policies" },

	/* the sender's reputation */
	{ "badreputation", "poor reputation" },
	{ "badreputation", "bad reputation" },
	{ "badreputation", "low reputation" },
	{ "badreputation", "reputation of" },
	{ "badreputation", "sender reputation" },
	{ "badreputation", "ip reputation" },

	/* no such recipient */
	{ "userunknown", "user unknown" },
	{ "userunknown", "user not exist" },
	{ "userunknown", "unknown user" },
	{ "userunknown", "no such user" },
	{ "userunknown", "user not found" },
	{ "userunknown", "user does not exist" },
	{ "userunknown", "user doesn't exist" },
	{ "userunknown", "user doesn't have a" },
	{ "userunknown", "user not known" },
	{ "userunknown", "user invalid" },
	{ "userunknown", "invalid user" },
	{ "userunknown", "unknown recipient" },
	{ "userunknown", "recipient unknown" },
	{ "userunknown", "recipient not found" },
	{ "userunknown", "recipient does not exist" },
	{ "userunknown", "recipient address rejected: user unknown" },
	{ "userunknown", "recipient address rejected: unknown" },
	{ "userunknown", "recipient address rejected: invalid" },
	{ "userunknown", "recipient address rejected: undeliverable" },
	{ "userunknown", "recipient address rejected: access denied" },
	{ "userunknown", "recipient is not" },
	{ "userunknown", "recipient rejected" },
	{ "userunknown", "no such recipient" },
	{ "userunknown", "invalid recipient" },
	{ "userunknown", "bad recipient" },
	{ "userunknown", "unknown local part" },
	{ "userunknown", "unknown local-part" },
	{ "userunknown", "no such mailbox" },
	{ "userunknown", "mailbox not found" },
	{ "userunknown", "mailbox does not exist" },
	{ "userunknown", "mailbox doesn't exist" },
	{ "userunknown", "mailbox unknown" },
	{ "userunknown", "unknown mailbox" },
	{ "userunknown", "invalid mailbox" },
	{ "userunknown", "not a valid mailbox" },
	{ "userunknown", "no mailbox" },
	{ "userunknown", "mailbox unavailable" },
	{ "userunknown", "mailbox not available" },
	{ "userunknown", "bad destination mailbox" },
	{ "userunknown", "address unknown" },
	{ "userunknown", "unknown address" },
	{ "userunknown", "addressee unknown" },
	{ "userunknown", "address does not exist" },
	{ "userunknown", "address doesn't exist" },
	{ "userunknown", "address not found" },
	{ "userunknown", "address could not be found" },
	{ "userunknown", "no such address" },
	{ "userunknown", "invalid address" },
	{ "userunknown", "address is invalid" },
	{ "userunknown", "account does not exist" },
	{ "userunknown", "account doesn't exist" },
	{ "userunknown", "account that you tried to reach does not exist" },
	{ "userunknown", "no account by that name" },
	{ "userunknown", "no such account" },
	{ "userunknown", "is not a known user" },
	{ "userunknown", "not a known user" },
	{ "userunknown", "unknown or illegal alias" },
	{ "userunknown", "not our customer" },
	{ "userunknown", "non-existent" },
	{ "userunknown", "nonexistent user" },
	{ "userunknown", "nonexistent mailbox" },
	{ "userunknown", "no such person" },
	{ "userunknown", "user reject" },
	{ "userunknown", "does not exist here" },
	{ "userunknown", "not listed in domino directory" },
	{ "userunknown", "not listed in public name & address book" },
	{ "userunknown", "no valid recipients" },
	{ "userunknown", "not found in directory" },
	{ "userunknown", "recipient not listed" },
	{ "userunknown", "no user" },
	{ "userunknown", "not have an account" },
	{ "userunknown", "doesn't have an account" },
	{ "userunknown", "cannot be found" },
	{ "userunknown", "could not be found" },
	{ "userunknown", "is unknown" },
	{ "userunknown", "unknown in" },
	{ "userunknown", "no mail box" },
	{ "userunknown", "mailbox unavailable" },

	/* no such domain or host */
	{ "hostunknown", "host unknown" },
	{ "hostunknown", "unrouteable address" },
	{ "hostunknown", "dns lookup failure" },
	{ "hostunknown", "unknown host" },
	{ "hostunknown", "host not found" },
	{ "hostunknown", "host or domain name not found" },
	{ "hostunknown", "domain not found" },
	{ "hostunknown", "domain name not found" },
	{ "hostunknown", "no such domain" },
	{ "hostunknown", "unknown domain" },
	{ "hostunknown", "domain does not exist" },
	{ "hostunknown", "domain doesn't exist" },
	{ "hostunknown", "nonexistent domain" },
	{ "hostunknown", "non-existent domain" },
	{ "hostunknown", "name or service not known" },
	{ "hostunknown", "unroutable" },
	{ "hostunknown", "no mx" },
	{ "hostunknown", "mx record" },
	{ "hostunknown", "dns error" },
	{ "hostunknown", "domain is not" },
	{ "hostunknown", "invalid domain" },
	{ "hostunknown", "domain is invalid" },
	{ "hostunknown", "no route for" },

	/* too many connections or messages in a period */
	{ "toomanyconn", "too many connections" },
	{ "toomanyconn", "connection rate limit" },
	{ "toomanyconn", "too many recipients" },
	{ "toomanyconn", "frequency limited" },
	{ "toomanyconn", "too many concurrent" },
	{ "toomanyconn", "too many simultaneous" },
	{ "toomanyconn", "too many sessions" },
	{ "toomanyconn", "connection limit" },
	{ "toomanyconn", "connections from your" },
	{ "speeding", "rate limit" },
	{ "speeding", "ratelimit" },
	{ "speeding", "rate-limit" },
	{ "speeding", "sending rate" },
	{ "speeding", "too many messages" },
	{ "speeding", "too many emails" },
	{ "speeding", "throttl" },
	{ "speeding", "receiving mail at a rate" },
	{ "speeding", "exceeded the rate" },

	/* the domain accepts no mail at all */
	{ "notaccept", "does not accept mail" },
	{ "notaccept", "doesn't receive email" },
	{ "notaccept", "does not receive email" },
	{ "notaccept", "no smtp service" },
	{ "notaccept", "does not accept e-mail" },
	{ "notaccept", "does not accept email" },
	{ "notaccept", "not accepting mail" },
	{ "notaccept", "accepts no mail" },
	{ "notaccept", "no mail accepted" },
	{ "notaccept", "null mx" },
	{ "notaccept", "mail is not accepted" },
	{ "notaccept", "not accepting network messages" },

	/* the receiving system has no room */
	{ "systemfull", "insufficient system storage" },
	{ "systemfull", "insufficient disk space" },
	{ "systemfull", "system full" },
	{ "systemfull", "disk full" },
	{ "systemfull", "no space left" },
	{ "systemfull", "out of disk" },
	{ "systemfull", "mail system full" },

	/* the sending address or host is on a block list */
	{ "blocked", "spamhaus" },
	{ "blocked", "spamcop" },
	{ "blocked", "sorbs" },
	{ "blocked", "barracudacentral" },
	{ "blocked", "blacklist" },
	{ "blocked", "black list" },
	{ "blocked", "blocklist" },
	{ "blocked", "block list" },
	{ "blocked", "dnsbl" },
	{ "blocked", "rbl" },
	{ "blocked", "listed at" },
	{ "blocked", "listed in" },
	{ "blocked", "listed on" },
	{ "blocked", "listed by" },
	{ "blocked", "is listed" },
	{ "blocked", "client host rejected" },
	{ "blocked", "client host blocked" },
	{ "blocked", "access denied. ip" },
	{ "blocked", "ip address blocked" },
	{ "blocked", "your ip" },
	{ "blocked", "ip address" },
	{ "blocked", "your host" },
	{ "blocked", "your server" },
	{ "blocked", "connection refused by" },
	{ "blocked", "connection rejected" },
	{ "blocked", "refused to talk" },
	{ "blocked", "banned" },
	{ "blocked", "blocked using" },
	{ "blocked", "has been blocked" },
	{ "blocked", "have been blocked" },
	{ "blocked", "temporarily blocked" },
	{ "blocked", "is blocked" },
	{ "blocked", "blocked by" },
	{ "blocked", "blocked for" },
	{ "blocked", "mail from ip" },
	{ "blocked", "messages from" },

	/* the content looked like spam */
	{ "spamdetected", "spam detected" },
	{ "spamdetected", "flagged as spam" },
	{ "spamdetected", "content rejected" },
	{ "spamdetected", "ube," },
	{ "spamdetected", "unsolicited bulk" },
	{ "spamdetected", "indesirable" },
	{ "spamdetected", "spam classification" },
	{ "spamdetected", "detected as spam" },
	{ "spamdetected", "classified as spam" },
	{ "spamdetected", "considered spam" },
	{ "spamdetected", "looks like spam" },
	{ "spamdetected", "appears to be spam" },
	{ "spamdetected", "identified as spam" },
	{ "spamdetected", "rejected as spam" },
	{ "spamdetected", "marked as spam" },
	{ "spamdetected", "spam message" },
	{ "spamdetected", "spam content" },
	{ "spamdetected", "spam score" },
	{ "spamdetected", "spamassassin" },
	{ "spamdetected", "high probability of spam" },
	{ "spamdetected", "likely spam" },
	{ "spamdetected", "suspected spam" },
	{ "spamdetected", "unsolicited" },
	{ "spamdetected", "bulk mail" },
	{ "spamdetected", "junk mail" },

	/* a policy of the receiving side */
	{ "policyviolation", "policy violation" },
	{ "policyviolation", "potential security issue" },
	{ "policyviolation", "violates our" },
	{ "policyviolation", "violation of" },
	{ "policyviolation", "content policy" },
	{ "policyviolation", "email policy" },
	{ "policyviolation", "mail policy" },
	{ "policyviolation", "prohibited by" },
	{ "policyviolation", "not allowed by policy" },
	{ "policyviolation", "policy reasons" },
	{ "policyviolation", "local policy" },
	{ "policyviolation", "security policy" },
	{ "policyviolation", "acceptable use" },
	{ "policyviolation", "prohibited attachment" },
	{ "policyviolation", "attachment is not allowed" },
	{ "policyviolation", "file type" },

	/* the message is not RFC 5322 */
	{ "notcompliantrfc", "rfc 5322" },
	{ "notcompliantrfc", "rfc5322" },
	{ "notcompliantrfc", "rfc 2822" },
	{ "notcompliantrfc", "rfc2822" },
	{ "notcompliantrfc", "rfc 822" },
	{ "notcompliantrfc", "rfc822 compliant" },
	{ "notcompliantrfc", "not rfc compliant" },
	{ "notcompliantrfc", "non-compliant" },
	{ "notcompliantrfc", "duplicate header" },
	{ "notcompliantrfc", "multiple from" },
	{ "notcompliantrfc", "multiple addresses in from" },

	/* the content itself */
	{ "contenterror", "content error" },
	{ "contenterror", "invalid header" },
	{ "contenterror", "header error" },
	{ "contenterror", "illegal header" },
	{ "contenterror", "malformed" },
	{ "contenterror", "line too long" },
	{ "contenterror", "bare lf" },
	{ "contenterror", "invalid character" },

	/* SMTP syntax */
	{ "syntaxerror", "syntax error" },
	{ "syntaxerror", "not implemented" },
	{ "syntaxerror", "command unrecognized" },
	{ "syntaxerror", "command not recognized" },
	{ "syntaxerror", "unrecognized command" },
	{ "syntaxerror", "bad sequence of commands" },
	{ "syntaxerror", "invalid command" },

	/* the recipient (or its domain) refuses this sender or content */
	{ "filtered", "domain filter" },
	{ "filtered", "recipient refuses" },
	{ "filtered", "refused by the recipient" },
	{ "filtered", "rejected by recipient" },
	{ "filtered", "recipient has rejected" },
	{ "filtered", "message rejected by" },
	{ "filtered", "due to user filter" },
	{ "filtered", "filtered" },
	{ "filtered", "refuses to accept" },
	{ "filtered", "user refuses" },
	{ "filtered", "does not wish to receive" },
	{ "filtered", "not accepting messages from" },
	{ "filtered", "has restricted" },
	{ "filtered", "restricted to" },
	{ "filtered", "only accepts mail from" },

	/* the sender was refused */
	{ "rejected", "sender rejected" },
	{ "rejected", "sender address rejected" },
	{ "rejected", "sender denied" },
	{ "rejected", "sender verify failed" },
	{ "rejected", "sender verification" },
	{ "rejected", "sender not allowed" },
	{ "rejected", "sender is not allowed" },
	{ "rejected", "sender blocked" },
	{ "rejected", "sender domain" },
	{ "rejected", "invalid sender" },
	{ "rejected", "bad sender" },
	{ "rejected", "unknown sender" },
	{ "rejected", "sender unknown" },
	{ "rejected", "domain of sender address" },
	{ "rejected", "from address rejected" },
	{ "rejected", "envelope sender" },
	{ "rejected", "your envelope sender" },
	{ "rejected", "return path" },
	{ "rejected", "return-path" },

	/* the MTA gave up retrying */
	{ "expired", "delivery time expired" },
	{ "expired", "queue too long" },
	{ "expired", "message expired" },
	{ "expired", "delivery expired" },
	{ "expired", "retry time" },
	{ "expired", "retry timeout" },
	{ "expired", "retry limit" },
	{ "expired", "lifetime exceeded" },
	{ "expired", "too long in queue" },
	{ "expired", "timeout waiting" },
	{ "expired", "timed out" },
	{ "expired", "time out" },
	{ "expired", "timeout" },

	/* the network between the MTAs */
	{ "networkerror", "connection refused" },
	{ "networkerror", "network error" },
	{ "networkerror", "network is unreachable" },
	{ "networkerror", "no route to host" },
	{ "networkerror", "lost connection" },
	{ "networkerror", "connection reset" },
	{ "networkerror", "connection closed" },
	{ "networkerror", "connection dropped" },
	{ "networkerror", "could not connect" },
	{ "networkerror", "unable to connect" },
	{ "networkerror", "failed to connect" },
	{ "networkerror", "temporary failure in name resolution" },
	{ "networkerror", "name server" },
	{ "networkerror", "host name lookup failure" },
	{ "networkerror", "dns lookup" },
	{ "networkerror", "mail loop" },
	{ "networkerror", "loops back" },
	{ "networkerror", "routing loop" },
	{ "networkerror", "too many hops" },
	{ "networkerror", "hop count" },

	/* a local delivery program failed */
	{ "mailererror", "command died" },
	{ "mailererror", "command failed" },
	{ "mailererror", "program failed" },
	{ "mailererror", "pipe to |" },
	{ "mailererror", "x-unix;" },

	/* the receiving system failed */
	{ "systemerror", "system error" },
	{ "systemerror", "transaction failed" },
	{ "systemerror", "service currently unavailable" },
	{ "systemerror", "internal error" },
	{ "systemerror", "server error" },
	{ "systemerror", "local error" },
	{ "systemerror", "temporary local problem" },
	{ "systemerror", "mail system problem" },
	{ "systemerror", "configuration error" },
	{ "systemerror", "misconfigured" },
	{ "systemerror", "too many errors" },
	{ "systemerror", "service unavailable" },
	{ "systemerror", "system problem" },
};

/*
 * The MTA's words for giving up ("could not be delivered for 5 days"):
 * they say that it stopped retrying, not what failed while it retried,
 * so any other phrase ("Deferred: Connection refused by ...") wins.
 */
static const struct phrase PHRASES_GAVEUP[] = {
	{ "expired", "could not be delivered for" },
	{ "expired", "cannot send message for" },
	{ "expired", "have been failing for" },
	{ "expired", "has been failing for" },
	{ "expired", "giving up" },
	{ "expired", "deferred for" },
	{ "expired", "could not be delivered within" },
	{ "expired", "undeliverable for" },
	{ "expired", "will be retried" },
	{ "expired", "was not delivered within" },
	{ "expired", "still undelivered" },
};

/* Checked after the status code: words that only say who refused. */
static const struct phrase PHRASES_WEAK[] = {
	{ "rejected", "not permitted" },
	{ "rejected", "not allowed" },
	{ "rejected", "access denied" },
	{ "rejected", "denied" },
	{ "rejected", "refused" },
	{ "rejected", "rejected" },
	{ "blocked", "blocked" },
	{ "blocked", "block" },
	{ "spamdetected", "spam" },
	{ "policyviolation", "policy" },
};

/*
 * RFC 3463 (and the registry's later codes): "C.S.D" exact first, then
 * "S.D" for any class.  A 4.x.x code in a final failure means the MTA
 * gave up retrying: handled by the caller's action, not here.
 */
struct status_map {
	const char *code;	/* "1.1" = any class; "4.4.1" = exact */
	const char *reason;
};

static const struct status_map STATUS_TABLE[] = {
	{ "4.4.1", "expired" },		/* no answer from host, given up */
	{ "4.4.2", "expired" },		/* bad connection, given up */
	{ "1.1", "userunknown" },	/* bad destination mailbox address */
	{ "1.2", "hostunknown" },	/* bad destination system address */
	{ "1.3", "userunknown" },	/* bad destination mailbox syntax */
	{ "1.6", "hasmoved" },		/* destination mailbox has moved */
	{ "1.7", "rejected" },		/* bad sender's mailbox syntax */
	{ "1.8", "rejected" },		/* bad sender's system address */
	{ "1.10", "notaccept" },	/* RFC 7505: recipient has null MX */
	{ "2.1", "suspend" },		/* mailbox disabled */
	{ "2.2", "mailboxfull" },	/* mailbox full */
	{ "2.3", "exceedlimit" },	/* message length exceeds limit */
	{ "2.4", "systemerror" },	/* mailing list expansion problem */
	{ "3.0", "systemerror" },	/* other or undefined mail system */
	{ "3.1", "systemfull" },	/* mail system full */
	{ "3.2", "notaccept" },		/* not accepting network messages */
	{ "3.3", "systemerror" },	/* not capable of selected features */
	{ "3.4", "mesgtoobig" },	/* message too big for system */
	{ "3.5", "systemerror" },	/* system incorrectly configured */
	{ "4.0", "networkerror" },	/* other network or routing status */
	{ "4.3", "systemerror" },	/* directory server failure */
	{ "4.4", "hostunknown" },	/* unable to route */
	{ "4.5", "systemfull" },	/* mail system congestion */
	{ "4.6", "networkerror" },	/* routing loop detected */
	{ "4.7", "expired" },		/* delivery time expired */
	{ "5.1", "syntaxerror" },	/* invalid command */
	{ "5.2", "syntaxerror" },	/* syntax error */
	{ "5.3", "exceedlimit" },	/* too many recipients */
	{ "5.4", "syntaxerror" },	/* invalid command arguments */
	{ "5.5", "syntaxerror" },	/* wrong protocol version */
	{ "5.6", "securityerror" },	/* RFC 4954: auth line too long */
	{ "6.0", "contenterror" },	/* other media error */
	{ "6.1", "contenterror" },	/* media not supported */
	{ "6.2", "contenterror" },	/* conversion required, prohibited */
	{ "6.3", "contenterror" },	/* conversion required, unsupported */
	{ "6.4", "contenterror" },	/* conversion with loss */
	{ "6.5", "contenterror" },	/* conversion failed */
	{ "6.6", "contenterror" },	/* message content not available */
	{ "6.7", "contenterror" },	/* RFC 6531: non-ASCII, no SMTPUTF8 */
	{ "6.8", "contenterror" },
	{ "6.9", "contenterror" },
	{ "6.10", "contenterror" },
	{ "7.1", "securityerror" },	/* delivery not authorized */
	{ "7.2", "rejected" },		/* list expansion prohibited */
	{ "7.3", "securityerror" },	/* security conversion required */
	{ "7.4", "securityerror" },	/* security features unsupported */
	{ "7.5", "securityerror" },	/* cryptographic failure */
	{ "7.6", "securityerror" },	/* crypto algorithm unsupported */
	{ "7.7", "securityerror" },	/* message integrity failure */
	{ "7.8", "securityerror" },	/* RFC 4954: credentials invalid */
	{ "7.9", "securityerror" },	/* RFC 4954: mechanism too weak */
	{ "7.10", "securityerror" },	/* RFC 5248: encryption needed */
	{ "7.11", "securityerror" },	/* RFC 5248: encryption required */
	{ "7.12", "securityerror" },	/* RFC 5248: password transition */
	{ "7.13", "suspend" },		/* RFC 5248: user account disabled */
	{ "7.14", "securityerror" },	/* RFC 5248: trust relationship */
	{ "7.15", "rejected" },		/* RFC 6710: priority too low */
	{ "7.16", "mesgtoobig" },	/* RFC 6710: too big for priority */
	{ "7.17", "hasmoved" },		/* RFC 7293: mailbox owner changed */
	{ "7.18", "hasmoved" },		/* RFC 7293: domain owner changed */
	{ "7.19", "syntaxerror" },	/* RFC 7293: RRVS not supported */
	{ "7.20", "authfailure" },	/* RFC 7372: no passing DKIM */
	{ "7.21", "authfailure" },	/* no acceptable DKIM signature */
	{ "7.22", "authfailure" },	/* no valid author-matched DKIM */
	{ "7.23", "authfailure" },	/* SPF validation failed */
	{ "7.24", "authfailure" },	/* SPF validation error */
	{ "7.25", "requireptr" },	/* reverse DNS validation failed */
	{ "7.26", "authfailure" },	/* multiple authentication checks */
	{ "7.27", "notaccept" },	/* RFC 7505: sender has null MX */
	{ "7.28", "speeding" },		/* RFC 8689?: mail flood detected */
	{ "7.29", "authfailure" },	/* RFC 8617: ARC validation */
	{ "7.30", "securityerror" },	/* RFC 8689: REQUIRETLS */
};

/*
 * When nothing else says, what a known sender of bounces means by
 * sending one (its own documentation, in any language it writes): a
 * Google Groups bounce is a group refusing the post.
 */
static const struct phrase VENDOR_DEFAULTS[] = {
	{ "rejected", "groups.google.com" },
	{ "rejected", "googlegroups.com" },
};

const char *
st_bounce_reason_vendor(const char *text, size_t len)
{
	size_t i;

	for (i = 0; text != NULL && i < sizeof(VENDOR_DEFAULTS) /
	    sizeof(VENDOR_DEFAULTS[0]); i++)
		if (memmem(text, len, VENDOR_DEFAULTS[i].text,
		    strlen(VENDOR_DEFAULTS[i].text)) != NULL)
			return VENDOR_DEFAULTS[i].reason;
	return NULL;
}

/* RFC 5321 4.2.2/4.2.3 and RFC 4954: only the codes with one meaning. */
static const struct {
	const char *code, *reason;
} REPLY_TABLE[] = {
	{ "552", "mailboxfull" },	/* exceeded storage allocation */
	{ "452", "systemfull" },	/* insufficient system storage */
	{ "551", "hasmoved" },		/* user not local; please try */
	{ "553", "userunknown" },	/* mailbox name not allowed */
	{ "530", "securityerror" },	/* RFC 4954: authentication required */
	{ "535", "securityerror" },	/* RFC 4954: credentials invalid */
	{ "538", "securityerror" },	/* RFC 4954: encryption required */
	{ "500", "syntaxerror" },	/* syntax error, command unrecognized */
	{ "501", "syntaxerror" },	/* syntax error in arguments */
	{ "502", "syntaxerror" },	/* command not implemented */
	{ "503", "syntaxerror" },	/* bad sequence of commands */
	{ "504", "syntaxerror" },	/* command parameter not implemented */
};

/*
 * Lower-case, single-spaced copy of text (at most ST_MAX_REASON_TEXT bytes
 * of it) into s, which has room for ST_MAX_REASON_TEXT + 1; returns its
 * length.
 */
size_t
st_bounce_reason_norm(const char *text, size_t len, char *s)
{
	char *o;
	size_t i, first = SIZE_MAX;
	bool sp = true;

	if (len > ST_MAX_REASON_TEXT)
		len = ST_MAX_REASON_TEXT;
	for (i = 0, o = s; i < len; i++) {
		unsigned char c;

#if defined(__SSE2__)
		/* sixteen at a time while no white space follows white
		 * space (nothing to collapse): mapped byte for byte */
		while (len - i >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)
			    (const void *)(text + i));
			__m128i ws = _mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))),
			    _mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
			    _mm_cmpeq_epi8(v, _mm_setzero_si128())));
			__m128i up = _mm_and_si128(
			    _mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
			    _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
			__m128i dg = _mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('<')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('>'))),
			    _mm_and_si128(
			    _mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
			    _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1))));
			unsigned w = (unsigned)_mm_movemask_epi8(ws);
			unsigned after = (w << 1) | (sp ? 1u : 0u);
			unsigned d;

			if ((w & after) != 0)
				break;		/* a run to collapse */
			v = _mm_or_si128(v, _mm_and_si128(up,
			    _mm_set1_epi8(0x20)));
			v = _mm_or_si128(_mm_andnot_si128(ws, v),
			    _mm_and_si128(ws, _mm_set1_epi8(' ')));
			_mm_storeu_si128((__m128i *)(void *)o, v);
			d = (unsigned)_mm_movemask_epi8(dg) & after & 0xffffu;
			if (first == SIZE_MAX && d != 0)
				first = (size_t)(o - s) +
				    (size_t)__builtin_ctz(d);
			o += 16;
			i += 16;
			sp = (w & 0x8000u) != 0;
		}
		if (i >= len)
			break;
#endif
		c = (unsigned char)text[i];

		if (c <= ' ' && (c == ' ' || c == '\t' || c == '\r' ||
		    c == '\n' || c == '\0')) {
			if (!sp)
				*o++ = ' ';
			sp = true;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c += 32;
		/* where the second pass below has something to do: a word
		 * that starts with '<', '>' or a digit */
		else if (sp && first == SIZE_MAX && (c == '<' || c == '>' ||
		    (c >= '0' && c <= '9')))
			first = (size_t)(o - s);
		*o++ = (char)c;
		sp = false;
	}
	*o = '\0';
	if (first == SIZE_MAX)
		return (size_t)(o - s);
	/* multi-line SMTP replies quoted as one line carry "550-5.7.1" (or
	 * "550 5.7.1") in the middle of sentences: drop them */
	{
		char *r = s + first, *w = s + first;

		while (*r) {
			if ((r == s || r[-1] == ' ') && (r[0] == '<' ||
			    r[0] == '>') && r[1] == r[0] && r[2] == r[0] &&
			    r[3] == ' ') {
				r += 4;
				continue;
			}
			if ((r == s || r[-1] == ' ') && isdigit((unsigned char)r[0])
			    && isdigit((unsigned char)r[1]) &&
			    isdigit((unsigned char)r[2]) &&
			    (r[3] == '-' || (r[3] == ' ' && r != s &&
			    isdigit((unsigned char)r[4]) && r[5] == '.'))) {
				char *q = r + 4;

				while (*q && *q != ' ')
					q++;
				if (r[3] == '-' || (q - r) >= 9) {
					r = *q ? q + 1 : q;
					continue;
				}
			}
			*w++ = *r++;
		}
		*w = '\0';
		o = w;
	}
	return (size_t)(o - s);
}

/*
 * All the phrases of a group of tables looked for in one pass over the
 * normalised text: the phrases make a trie (built once), and the walk
 * down it from each position of the text stops at the first byte no
 * phrase has there, mostly the first or second.  What is found goes into
 * a bit set, and the tables' rules (first in table order, the one that
 * agrees with the code) are then read from that set.  A phrase with a
 * '#' is in the trie up to it; the rest is checked where that is found.
 */
#define PX_MAX		1024		/* phrases of one index */
#define PX_NODES	32768		/* trie nodes of one index */

struct pindex {
	size_t	n, nnodes;
	const char *text[PX_MAX];
	bool	digits[PX_MAX];		/* has a '#' */
	unsigned short term_next[PX_MAX]; /* 1 + next phrase ending alike */
	unsigned short root[256];	/* 1 + child of the root, 0 = none */
	/* the children of the root's children, dense: row[c] is 1 + the
	 * row of the root's child by c (0 = none), pair[row][c] 1 + the
	 * node two bytes down */
	unsigned char row[256];
	size_t	nrows;
	unsigned short pair[128][256];
	/* the other nodes: first child, next sibling (1 + index, 0 =
	 * none), the byte that leads to it, 1 + first phrase ending here */
	unsigned short child[PX_NODES], sibling[PX_NODES], term[PX_NODES];
	unsigned char label[PX_NODES];
	bool	overflow;		/* a phrase did not fit: px_slow */
	/* every phrase has three bytes or more before any '#': then the
	 * first three bytes of a match are looked up first (tri, one bit
	 * per hashed triple of the trie's first three levels) */
	bool	short_seen, long_only;
	uint64_t tri[512];
};

/* The bit of tri for three bytes: a hash that rolls, the next one
 * being ((h << 5) ^ next byte) & 0x7fff. */
static unsigned
px_tri(unsigned char a, unsigned char b, unsigned char c)
{
	return (((unsigned)a << 10) ^ ((unsigned)b << 5) ^ (unsigned)c) &
	    0x7fffu;
}

struct pfound {
	uint64_t bits[PX_MAX / 64];
};

/* The child of node (1 + index; 0 = the root) by byte c, made when
 * missing; 0 when the trie is full. */
static unsigned
px_child(struct pindex *x, unsigned node, unsigned char c)
{
	unsigned k;

	if (node == 0 && x->root[c] != 0)
		return x->root[c];
	for (k = node == 0 ? 0 : x->child[node - 1]; k != 0;
	    k = x->sibling[k - 1])
		if (x->label[k - 1] == c)
			return k;
	if (x->nnodes >= PX_NODES)
		return 0;
	k = (unsigned)++x->nnodes;
	x->label[k - 1] = c;
	x->child[k - 1] = x->term[k - 1] = x->sibling[k - 1] = 0;
	if (node == 0)
		x->root[c] = (unsigned short)k;
	else {
		x->sibling[k - 1] = x->child[node - 1];
		x->child[node - 1] = (unsigned short)k;
	}
	return k;
}

static void
px_add(struct pindex *x, const struct phrase *t, size_t n)
{
	size_t i;

	for (i = 0; i < n && x->n < PX_MAX; i++) {
		const char *s = t[i].text;
		size_t k = x->n++;
		unsigned node = 0;

		x->text[k] = s;
		x->digits[k] = strchr(s, '#') != NULL;
		if (strcspn(s, "#") < 3)
			x->short_seen = true;
		else {
			unsigned h = px_tri((unsigned char)s[0],
			    (unsigned char)s[1], (unsigned char)s[2]);

			x->tri[h >> 6] |= (uint64_t)1 << (h & 63);
		}
		for (; *s != '\0' && *s != '#'; s++)
			if ((node = px_child(x, node, (unsigned char)*s)) == 0)
				break;
		if (node == 0) {
			/* empty, starting with '#', or no room */
			x->overflow = true;
			continue;
		}
		x->term_next[k] = x->term[node - 1];
		x->term[node - 1] = (unsigned short)(k + 1);
	}
}

/* The dense rows of the second level, once the phrases are in. */
static void
px_rows(struct pindex *x)
{
	unsigned c, k;

	for (c = 0; c < 256; c++) {
		if (x->root[c] == 0)
			continue;
		if (x->nrows >= sizeof(x->pair) / sizeof(x->pair[0])) {
			x->overflow = true;	/* not here: px_slow */
			continue;
		}
		x->row[c] = (unsigned char)++x->nrows;
		for (k = x->child[x->root[c] - 1]; k != 0;
		    k = x->sibling[k - 1])
			x->pair[x->nrows - 1][x->label[k - 1]] =
			    (unsigned short)k;
	}
}

/* Is phrase k of x at s[i] (text of length n)?  '#' is a run of digits
 * (as many as there are, as the phrase tables always meant). */
static bool
px_at(const struct pindex *x, size_t k, const char *s, size_t n, size_t i)
{
	const char *f = x->text[k], *q = s + i, *e = s + n;

	while (*f != '\0') {
		if (*f == '#') {
			if (q >= e || !isdigit((unsigned char)*q))
				return false;
			while (q < e && isdigit((unsigned char)*q))
				q++;
			f++;
		} else if (q < e && *q == *f) {
			q++;
			f++;
		} else
			return false;
	}
	return true;
}

/* The phrases that end at node (1 + index), found at s[i]. */
static void
px_term(const struct pindex *x, unsigned node, const char *s, size_t n,
    size_t i, struct pfound *fd)
{
	size_t k;

	for (k = x->term[node - 1]; k != 0; k = x->term_next[k - 1])
		if (!x->digits[k - 1] || px_at(x, k - 1, s, n, i))
			fd->bits[(k - 1) >> 6] |= (uint64_t)1 << ((k - 1) & 63);
}

/* Which phrases of x are in s[0..n) (normalised: no NUL). */
static void
px_scan(const struct pindex *x, const char *s, size_t n, struct pfound *fd)
{
	size_t i, j, k;

	memset(fd, 0, sizeof(*fd));
	for (i = 0; i < n; i++) {
		unsigned r, node;

		if (x->long_only) {
			/* no phrase ends before its third byte: the three
			 * bytes here first (most positions end there) */
			const unsigned char *u = (const unsigned char *)s;
			const uint64_t *tri = x->tri;
			unsigned h;

			if (i + 2 >= n)
				break;
			h = px_tri(u[i], u[i + 1], u[i + 2]);
			while (!((tri[h >> 6] >> (h & 63)) & 1)) {
				if (++i + 2 >= n)
					break;
				h = ((h << 5) ^ u[i + 2]) & 0x7fffu;
			}
			if (i + 2 >= n)
				break;
		}
		if ((r = x->row[(unsigned char)s[i]]) == 0)
			continue;
		if (!x->long_only &&
		    x->term[x->root[(unsigned char)s[i]] - 1] != 0)
			px_term(x, x->root[(unsigned char)s[i]], s, n, i, fd);
		if (i + 1 >= n || (node = x->pair[r - 1][(unsigned char)
		    s[i + 1]]) == 0)
			continue;
		for (j = i + 2; ; j++) {
			if (x->term[node - 1] != 0)
				px_term(x, node, s, n, i, fd);
			if (j >= n)
				break;
			for (node = x->child[node - 1]; node != 0 &&
			    x->label[node - 1] != (unsigned char)s[j];
			    node = x->sibling[node - 1])
				;
			if (node == 0)
				break;
		}
	}
	/* phrases the trie could not take: one search each */
	for (k = 0; x->overflow && k < x->n; k++)
		for (i = 0; i < n; i++)
			if (px_at(x, k, s, n, i)) {
				fd->bits[k >> 6] |= (uint64_t)1 << (k & 63);
				break;
			}
}

/* The first phrase found among [from, to), or SIZE_MAX. */
static size_t
px_first(const struct pfound *fd, size_t from, size_t to)
{
	size_t i = from;

	while (i < to) {
		uint64_t w = fd->bits[i >> 6] >> (i & 63);

		if (w == 0) {
			i = (i | 63) + 1;
			continue;
		}
		i += (size_t)__builtin_ctzll(w);
		return i < to ? i : SIZE_MAX;
	}
	return SIZE_MAX;
}

#define NTOP	(sizeof(PHRASES_TOP) / sizeof(PHRASES_TOP[0]))
#define NSTRONG	(sizeof(PHRASES_STRONG) / sizeof(PHRASES_STRONG[0]))
#define NGAVEUP	(sizeof(PHRASES_GAVEUP) / sizeof(PHRASES_GAVEUP[0]))
#define NWEAK	(sizeof(PHRASES_WEAK) / sizeof(PHRASES_WEAK[0]))

/* TOP, STRONG and GAVEUP in one index (in that order); WEAK in another. */
_Static_assert(NTOP + NSTRONG + NGAVEUP <= PX_MAX && NWEAK <= PX_MAX,
    "PX_MAX: more phrases than an index holds");
static struct pindex px_strong, px_weak;
static pthread_once_t px_once = PTHREAD_ONCE_INIT;

static void
px_build(void)
{
	px_add(&px_strong, PHRASES_TOP, NTOP);
	px_add(&px_strong, PHRASES_STRONG, NSTRONG);
	px_add(&px_strong, PHRASES_GAVEUP, NGAVEUP);
	px_rows(&px_strong);
	px_add(&px_weak, PHRASES_WEAK, NWEAK);
	px_rows(&px_weak);
	px_strong.long_only = !px_strong.short_seen;
	px_weak.long_only = !px_weak.short_seen;
}

/* The reason of the phrase table entry k of px_strong. */
static const char *
strong_reason(size_t k)
{
	if (k < NTOP)
		return PHRASES_TOP[k].reason;
	if (k < NTOP + NSTRONG)
		return PHRASES_STRONG[k - NTOP].reason;
	return PHRASES_GAVEUP[k - NTOP - NSTRONG].reason;
}

/*
 * PHRASES_TOP first: the first found decides.  Then PHRASES_STRONG: the
 * first phrase found in table order wins, except that a phrase that
 * agrees with the status code (prefer) wins over the others (when the
 * words and the code say the same thing, that is what happened).  Last
 * PHRASES_GAVEUP.
 */
static const char *
match_strong(const char *s, size_t n, const char *prefer)
{
	struct pfound fd;
	size_t k;
	const char *first = NULL;

	pthread_once(&px_once, px_build);
	px_scan(&px_strong, s, n, &fd);
	if ((k = px_first(&fd, 0, NTOP)) != SIZE_MAX)
		return strong_reason(k);
	for (k = px_first(&fd, NTOP, NTOP + NSTRONG); k != SIZE_MAX;
	    k = px_first(&fd, k + 1, NTOP + NSTRONG)) {
		const char *r = strong_reason(k);

		if (prefer != NULL && strcmp(r, prefer) == 0)
			return r;
		if (first == NULL)
			first = r;
		if (prefer == NULL)
			break;
	}
	if (first == NULL && (k = px_first(&fd, NTOP + NSTRONG, NTOP +
	    NSTRONG + NGAVEUP)) != SIZE_MAX)
		first = strong_reason(k);
	return first;
}

/* PHRASES_WEAK: the first found in table order. */
static const char *
match_weak(const char *s, size_t n)
{
	struct pfound fd;
	size_t k;

	pthread_once(&px_once, px_build);
	px_scan(&px_weak, s, n, &fd);
	k = px_first(&fd, 0, NWEAK);
	return k != SIZE_MAX ? PHRASES_WEAK[k].reason : NULL;
}

/* Is a table code 5 bytes long (an exact "C.S.D")? */
static bool
code_len5(const char *c)
{
	return c[0] && c[1] && c[2] && c[3] && c[4] && !c[5];
}

/* STATUS_TABLE by the first byte of its codes (indices, in table order),
 * the exact "C.S.D" codes apart: built once. */
#define NSTATUS	(sizeof(STATUS_TABLE) / sizeof(STATUS_TABLE[0]))
_Static_assert(NSTATUS <= 256, "STATUS_TABLE: indices are bytes");
static unsigned char st_exact[NSTATUS], st_by[10][NSTATUS];
static size_t st_nexact, st_nby[10];
static pthread_once_t st_once = PTHREAD_ONCE_INIT;

static void
status_index(void)
{
	size_t i;

	for (i = 0; i < NSTATUS; i++) {
		const char *c = STATUS_TABLE[i].code;

		if (code_len5(c))
			st_exact[st_nexact++] = (unsigned char)i;
		else if (c[0] >= '0' && c[0] <= '9')
			st_by[c[0] - '0'][st_nby[c[0] - '0']++] =
			    (unsigned char)i;
	}
}

static const char *
status_reason(const char *status)
{
	size_t i;
	const char *sd;

	if (status == NULL || status[0] < '2' || status[0] > '5' ||
	    status[1] != '.')
		return NULL;
	/* Sisimai's private 5.0.9xx codes and x.0.0 say nothing */
	sd = status + 2;
	/* (only the entries that can match: this runs for every
	 * recipient) */
	pthread_once(&st_once, status_index);
	for (i = 0; i < st_nexact; i++)
		if (strcmp(STATUS_TABLE[st_exact[i]].code, status) == 0)
			return STATUS_TABLE[st_exact[i]].reason;
	if (sd[0] < '0' || sd[0] > '9')
		return NULL;
	for (i = 0; i < st_nby[sd[0] - '0']; i++) {
		const struct status_map *e = &STATUS_TABLE[st_by[sd[0] -
		    '0'][i]];

		if (e->code[1] == sd[1] && strcmp(e->code, sd) == 0)
			return e->reason;
	}
	return NULL;
}

const char *
st_bounce_reason_phrase(const char *text, size_t len, bool weak,
    const char *prefer)
{
	char s[ST_MAX_REASON_TEXT + 1];
	size_t n;

	if (text == NULL || len == 0)
		return NULL;
	n = st_bounce_reason_norm(text, len, s);
	return st_bounce_reason_phrase_norm(s, n, weak, prefer);
}

const char *
st_bounce_reason_phrase_norm(const char *s, size_t n, bool weak,
    const char *prefer)
{
	return weak ? match_weak(s, n) : match_strong(s, n, prefer);
}

const char *
st_bounce_reason_status(const char *status)
{
	return status_reason(status);
}

const char *
st_bounce_reason_reply(const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < sizeof(REPLY_TABLE) /
	    sizeof(REPLY_TABLE[0]); i++)
		if (strcmp(REPLY_TABLE[i].code, code) == 0)
			return REPLY_TABLE[i].reason;
	return NULL;
}

const char *
st_bounce_reason(const char *status, const char *reply_code,
    const char *text, size_t len)
{
	char s[ST_MAX_REASON_TEXT + 1];
	size_t n = 0;
	const char *r = NULL;
	bool have = text != NULL && len > 0;

	if (status != NULL && status[0] == '2')
		return "delivered";
	if (have) {
		n = st_bounce_reason_norm(text, len, s);
		r = match_strong(s, n, status_reason(status));
	}
	if (r == NULL)
		r = status_reason(status);
	if (r == NULL && have)
		r = match_weak(s, n);
	if (r == NULL && reply_code != NULL && *reply_code) {
		size_t i;

		for (i = 0; i < sizeof(REPLY_TABLE) / sizeof(REPLY_TABLE[0]);
		    i++)
			if (strcmp(REPLY_TABLE[i].code, reply_code) == 0)
				r = REPLY_TABLE[i].reason;
	}
	if (r != NULL)
		return r;
	if ((status != NULL && *status) || (reply_code != NULL &&
	    *reply_code))
		return "onhold";
	return "undefined";
}

/* --- finding codes in text ----------------------------------------------- */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The first status code of class 4 or 5 in the text (a failure), else the
 * first of class 2: a transcript may show "250 2.1.5 Ok" before the
 * reply that failed. */
static bool find_status_class(const char *t, size_t len, char *buf,
    size_t size, bool failures);

bool
st_bounce_find_status(const char *t, size_t len, char *buf, size_t size)
{
	return find_status_class(t, len, buf, size, true) ||
	    find_status_class(t, len, buf, size, false);
}

static bool
find_status_class(const char *t, size_t len, char *buf, size_t size,
    bool failures)
{
	size_t i, j, k;
	const char *dot;

	/* a code is "C." then digits: from one '.' to the next */
	for (i = 0; i + 5 <= len; i++) {
		if ((dot = memchr(t + i + 1, '.', len - i - 1)) == NULL)
			return false;
		i = (size_t)(dot - t) - 1;
		if (i + 5 > len)
			return false;
		if (failures && t[i] == '2')
			continue;
		if (t[i] < '2' || t[i] > '5' || t[i] == '3' || t[i + 1] != '.')
			continue;
		if (i > 0 && (is_digit(t[i - 1]) || t[i - 1] == '.' ||
		    isalpha((unsigned char)t[i - 1])))
			continue;
		j = i + 2;
		for (k = j; k < len && is_digit(t[k]) && k - j < 3; k++)
			;
		if (k == j || k >= len || t[k] != '.')
			continue;
		j = k + 1;
		for (k = j; k < len && is_digit(t[k]) && k - j < 3; k++)
			;
		if (k == j)
			continue;
		if (k < len && (is_digit(t[k]) || (t[k] == '.' && k + 1 < len &&
		    is_digit(t[k + 1])) || isalpha((unsigned char)t[k])))
			continue;
		if (k - i + 1 > size)
			return false;
		memcpy(buf, t + i, k - i);
		buf[k - i] = '\0';
		return true;
	}
	return false;
}

bool
st_bounce_find_reply_code(const char *t, size_t len, char *buf, size_t size)
{
	size_t i;

	if (size < 4)
		return false;
	for (i = 0; i + 3 <= len; i++) {
		if (t[i] < '2' || t[i] > '5' || !is_digit(t[i + 1]) ||
		    !is_digit(t[i + 2]))
			continue;
		if (t[i + 1] > '5')
			continue;
		if (i > 0 && (is_digit(t[i - 1]) || t[i - 1] == '.' ||
		    t[i - 1] == '#' || isalpha((unsigned char)t[i - 1]) ||
		    t[i - 1] == '-' || t[i - 1] == ':' || t[i - 1] == '/'))
			continue;
		if (i + 3 < len && t[i + 3] != ' ' && t[i + 3] != '-' &&
		    t[i + 3] != '\t' && t[i + 3] != '\n' && t[i + 3] != '\'' &&
		    t[i + 3] != ']' && t[i + 3] != ')' && t[i + 3] != ',')
			continue;
		memcpy(buf, t + i, 3);
		buf[3] = '\0';
		return true;
	}
	return false;
}
