/*
 * cctld.c - which country a host name's top-level domain stands for.
 *
 * DESCRIPTION
 *	st_cctld_country("venus.example.ac.kr") is "South Korea".  Used to
 *	sort the origins of a campaign into domestic and overseas, as a
 *	person reading the host names would.  It says where the name is
 *	registered, not where the machine is: a .com host may be anywhere,
 *	and gets NULL.  The US-only generic domains .edu, .gov and .mil are
 *	counted as the United States.
 *
 * SOURCE OF FACTS
 *	The two-letter country-code top-level domains of the IANA Root Zone
 *	Database, named after ISO 3166-1 (short English names).  .uk is the
 *	United Kingdom (ISO code GB), .su the former Soviet Union's domain
 *	still in use, .eu the European Union, .ac Ascension Island.
 *
 * LIMITS
 *	Looks at the last label of the name only; a trailing dot is ignored.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spamtrace/campaign.h"

struct cc {
	const char *tld, *name;
};

/* Sorted by TLD (binary search). */
static const struct cc CCTLD[] = {
	{ "ac", "Ascension Island" }, { "ad", "Andorra" },
	{ "ae", "United Arab Emirates" }, { "af", "Afghanistan" },
	{ "ag", "Antigua and Barbuda" }, { "ai", "Anguilla" },
	{ "al", "Albania" }, { "am", "Armenia" }, { "ao", "Angola" },
	{ "aq", "Antarctica" }, { "ar", "Argentina" },
	{ "as", "American Samoa" }, { "at", "Austria" },
	{ "au", "Australia" }, { "aw", "Aruba" }, { "ax", "Aland Islands" },
	{ "az", "Azerbaijan" }, { "ba", "Bosnia and Herzegovina" },
	{ "bb", "Barbados" }, { "bd", "Bangladesh" }, { "be", "Belgium" },
	{ "bf", "Burkina Faso" }, { "bg", "Bulgaria" }, { "bh", "Bahrain" },
	{ "bi", "Burundi" }, { "bj", "Benin" }, { "bm", "Bermuda" },
	{ "bn", "Brunei" }, { "bo", "Bolivia" }, { "br", "Brazil" },
	{ "bs", "Bahamas" }, { "bt", "Bhutan" }, { "bw", "Botswana" },
	{ "by", "Belarus" }, { "bz", "Belize" }, { "ca", "Canada" },
	{ "cc", "Cocos (Keeling) Islands" },
	{ "cd", "Democratic Republic of the Congo" },
	{ "cf", "Central African Republic" }, { "cg", "Republic of the Congo" },
	{ "ch", "Switzerland" }, { "ci", "Cote d'Ivoire" },
	{ "ck", "Cook Islands" }, { "cl", "Chile" }, { "cm", "Cameroon" },
	{ "cn", "China" }, { "co", "Colombia" }, { "cr", "Costa Rica" },
	{ "cu", "Cuba" }, { "cv", "Cabo Verde" }, { "cw", "Curacao" },
	{ "cx", "Christmas Island" }, { "cy", "Cyprus" }, { "cz", "Czechia" },
	{ "de", "Germany" }, { "dj", "Djibouti" }, { "dk", "Denmark" },
	{ "dm", "Dominica" }, { "do", "Dominican Republic" },
	{ "dz", "Algeria" }, { "ec", "Ecuador" }, { "edu", "United States" },
	{ "ee", "Estonia" }, { "eg", "Egypt" }, { "er", "Eritrea" },
	{ "es", "Spain" }, { "et", "Ethiopia" }, { "eu", "European Union" },
	{ "fi", "Finland" }, { "fj", "Fiji" }, { "fk", "Falkland Islands" },
	{ "fm", "Micronesia" }, { "fo", "Faroe Islands" }, { "fr", "France" },
	{ "ga", "Gabon" }, { "gb", "United Kingdom" }, { "gd", "Grenada" },
	{ "ge", "Georgia" }, { "gf", "French Guiana" }, { "gg", "Guernsey" },
	{ "gh", "Ghana" }, { "gi", "Gibraltar" }, { "gl", "Greenland" },
	{ "gm", "Gambia" }, { "gn", "Guinea" }, { "gov", "United States" },
	{ "gp", "Guadeloupe" }, { "gq", "Equatorial Guinea" },
	{ "gr", "Greece" }, { "gs", "South Georgia" }, { "gt", "Guatemala" },
	{ "gu", "Guam" }, { "gw", "Guinea-Bissau" }, { "gy", "Guyana" },
	{ "hk", "Hong Kong" }, { "hm", "Heard and McDonald Islands" },
	{ "hn", "Honduras" }, { "hr", "Croatia" }, { "ht", "Haiti" },
	{ "hu", "Hungary" }, { "id", "Indonesia" }, { "ie", "Ireland" },
	{ "il", "Israel" }, { "im", "Isle of Man" }, { "in", "India" },
	{ "io", "British Indian Ocean Territory" }, { "iq", "Iraq" },
	{ "ir", "Iran" }, { "is", "Iceland" }, { "it", "Italy" },
	{ "je", "Jersey" }, { "jm", "Jamaica" }, { "jo", "Jordan" },
	{ "jp", "Japan" }, { "ke", "Kenya" }, { "kg", "Kyrgyzstan" },
	{ "kh", "Cambodia" }, { "ki", "Kiribati" }, { "km", "Comoros" },
	{ "kn", "Saint Kitts and Nevis" }, { "kp", "North Korea" },
	{ "kr", "South Korea" }, { "kw", "Kuwait" },
	{ "ky", "Cayman Islands" }, { "kz", "Kazakhstan" }, { "la", "Laos" },
	{ "lb", "Lebanon" }, { "lc", "Saint Lucia" },
	{ "li", "Liechtenstein" }, { "lk", "Sri Lanka" }, { "lr", "Liberia" },
	{ "ls", "Lesotho" }, { "lt", "Lithuania" }, { "lu", "Luxembourg" },
	{ "lv", "Latvia" }, { "ly", "Libya" }, { "ma", "Morocco" },
	{ "mc", "Monaco" }, { "md", "Moldova" }, { "me", "Montenegro" },
	{ "mg", "Madagascar" }, { "mh", "Marshall Islands" },
	{ "mil", "United States" }, { "mk", "North Macedonia" },
	{ "ml", "Mali" }, { "mm", "Myanmar" }, { "mn", "Mongolia" },
	{ "mo", "Macao" }, { "mp", "Northern Mariana Islands" },
	{ "mq", "Martinique" }, { "mr", "Mauritania" },
	{ "ms", "Montserrat" }, { "mt", "Malta" }, { "mu", "Mauritius" },
	{ "mv", "Maldives" }, { "mw", "Malawi" }, { "mx", "Mexico" },
	{ "my", "Malaysia" }, { "mz", "Mozambique" }, { "na", "Namibia" },
	{ "nc", "New Caledonia" }, { "ne", "Niger" },
	{ "nf", "Norfolk Island" }, { "ng", "Nigeria" },
	{ "ni", "Nicaragua" }, { "nl", "Netherlands" }, { "no", "Norway" },
	{ "np", "Nepal" }, { "nr", "Nauru" }, { "nu", "Niue" },
	{ "nz", "New Zealand" }, { "om", "Oman" }, { "pa", "Panama" },
	{ "pe", "Peru" }, { "pf", "French Polynesia" },
	{ "pg", "Papua New Guinea" }, { "ph", "Philippines" },
	{ "pk", "Pakistan" }, { "pl", "Poland" },
	{ "pm", "Saint Pierre and Miquelon" }, { "pn", "Pitcairn" },
	{ "pr", "Puerto Rico" }, { "ps", "Palestine" }, { "pt", "Portugal" },
	{ "pw", "Palau" }, { "py", "Paraguay" }, { "qa", "Qatar" },
	{ "re", "Reunion" }, { "ro", "Romania" }, { "rs", "Serbia" },
	{ "ru", "Russia" }, { "rw", "Rwanda" }, { "sa", "Saudi Arabia" },
	{ "sb", "Solomon Islands" }, { "sc", "Seychelles" },
	{ "sd", "Sudan" }, { "se", "Sweden" }, { "sg", "Singapore" },
	{ "sh", "Saint Helena" }, { "si", "Slovenia" },
	{ "sk", "Slovakia" }, { "sl", "Sierra Leone" },
	{ "sm", "San Marino" }, { "sn", "Senegal" }, { "so", "Somalia" },
	{ "sr", "Suriname" }, { "ss", "South Sudan" },
	{ "st", "Sao Tome and Principe" }, { "su", "Soviet Union" },
	{ "sv", "El Salvador" }, { "sx", "Sint Maarten" }, { "sy", "Syria" },
	{ "sz", "Eswatini" }, { "tc", "Turks and Caicos Islands" },
	{ "td", "Chad" }, { "tf", "French Southern Territories" },
	{ "tg", "Togo" }, { "th", "Thailand" }, { "tj", "Tajikistan" },
	{ "tk", "Tokelau" }, { "tl", "Timor-Leste" },
	{ "tm", "Turkmenistan" }, { "tn", "Tunisia" }, { "to", "Tonga" },
	{ "tr", "Turkey" }, { "tt", "Trinidad and Tobago" },
	{ "tv", "Tuvalu" }, { "tw", "Taiwan" }, { "tz", "Tanzania" },
	{ "ua", "Ukraine" }, { "ug", "Uganda" }, { "uk", "United Kingdom" },
	{ "us", "United States" }, { "uy", "Uruguay" },
	{ "uz", "Uzbekistan" }, { "va", "Vatican City" },
	{ "vc", "Saint Vincent and the Grenadines" }, { "ve", "Venezuela" },
	{ "vg", "British Virgin Islands" }, { "vi", "US Virgin Islands" },
	{ "vn", "Vietnam" }, { "vu", "Vanuatu" },
	{ "wf", "Wallis and Futuna" }, { "ws", "Samoa" }, { "ye", "Yemen" },
	{ "yt", "Mayotte" }, { "za", "South Africa" }, { "zm", "Zambia" },
	{ "zw", "Zimbabwe" },
};

static int
cmp(const void *k, const void *e)
{
	return strcasecmp((const char *)k, ((const struct cc *)e)->tld);
}

const char *
st_cctld_country(const char *host)
{
	char tld[8];
	const char *dot, *end;
	const struct cc *r;
	size_t n;

	if (host == NULL || *host == '\0')
		return NULL;
	end = host + strlen(host);
	while (end > host && end[-1] == '.')
		end--;
	for (dot = end; dot > host && dot[-1] != '.'; dot--)
		;
	if (dot == host)	/* no dot: not a qualified name */
		return NULL;
	n = (size_t)(end - dot);
	if (n < 2 || n >= sizeof(tld))
		return NULL;
	memcpy(tld, dot, n);
	tld[n] = '\0';
	if (isdigit((unsigned char)tld[0]))	/* an IPv4 address */
		return NULL;
	r = bsearch(tld, CCTLD, sizeof(CCTLD) / sizeof(CCTLD[0]),
	    sizeof(CCTLD[0]), cmp);
	return r ? r->name : NULL;
}
