/* gc-room-code.c: friendly random room codes from the OS CSPRNG
 *
 * A hosted room is as private as its code is hard to guess: the old codes
 * (adjective-animal-NN from g_random) had 25,600 values. These take four
 * words from two lists of 256 (32 bits) and a number below 1000 (~10 bits):
 * about 42 bits, from the operating system's CSPRNG.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-room-code.h"
#include "gc-ws-random.h"

static const char * const adjectives[256] = {
    "able", "active", "agile", "airy", "alert", "amber", "ample", "apt", "arctic",
    "ardent", "artful", "astral", "autumn", "avid", "azure", "balmy", "bold", "brave",
    "breezy", "bright", "brisk", "broad", "bubbly", "busy", "calm", "candid", "careful",
    "caring", "cheery", "chief", "chipper", "civil", "classic", "clean", "clear",
    "clever", "cloudy", "coastal", "cobalt", "cool", "coral", "cosmic", "cosy", "crafty",
    "crisp", "curious", "curly", "cyan", "daring", "dapper", "dashing", "dawn", "dear",
    "deep", "deft", "dewy", "direct", "distant", "dizzy", "dreamy", "dusky", "dusty",
    "eager", "early", "earnest", "easy", "elder", "electric", "elegant", "emerald",
    "epic", "even", "exact", "fabled", "fair", "faithful", "famous", "fancy", "fast",
    "fearless", "feisty", "fine", "firm", "first", "fleet", "fluffy", "flying", "fond",
    "frank", "free", "fresh", "friendly", "frosty", "frugal", "funny", "fuzzy", "gallant",
    "gentle", "giant", "giddy", "gifted", "glad", "gleaming", "glossy", "golden", "good",
    "graceful", "grand", "grateful", "great", "green", "hardy", "hasty", "hazel",
    "hearty", "helpful", "heroic", "hidden", "honest", "hopeful", "humble", "icy",
    "ideal", "indigo", "inner", "jade", "jazzy", "jolly", "jovial", "joyful", "keen",
    "kind", "kindly", "lavish", "lawful", "leafy", "light", "lilac", "lime", "limber",
    "lively", "local", "lofty", "loyal", "lucid", "lucky", "lunar", "lush", "magic",
    "major", "maple", "marine", "mellow", "merry", "mighty", "mild", "minty", "misty",
    "modern", "modest", "mossy", "noble", "nimble", "north", "novel", "oaken", "ocean",
    "olive", "open", "orange", "orchid", "outer", "pastel", "patient", "peaceful",
    "pearly", "perky", "pink", "placid", "plain", "plucky", "plush", "polar", "polite",
    "proud", "prime", "proper", "quick", "quiet", "quirky", "radiant", "rapid", "rare",
    "ready", "regal", "rich", "ripe", "robust", "rosy", "round", "royal", "ruby",
    "rustic", "sandy", "savvy", "scarlet", "secret", "serene", "shiny", "silent", "silky",
    "silver", "simple", "sincere", "sleek", "smart", "smooth", "snowy", "snug", "soft",
    "solar", "solid", "sonic", "sound", "spare", "spicy", "spry", "steady", "stellar",
    "still", "stormy", "sturdy", "sunny", "super", "superb", "sure", "sweet", "swift",
    "tall", "tame", "tawny", "teal", "tender", "thrifty", "tidy", "tiny", "topaz",
    "tranquil", "true", "trusty", "tulip", "twin", "urban", "valiant", "velvet", "vivid",
};

static const char * const nouns[256] = {
    "acorn", "anchor", "antler", "apple", "arbor", "arrow", "aspen", "aster", "badger",
    "bagel", "bamboo", "banjo", "barley", "basil", "beacon", "bear", "beaver", "bee",
    "beetle", "berry", "birch", "bison", "blossom", "bluff", "bobcat", "bonsai", "breeze",
    "brook", "buffalo", "bunny", "butter", "cabin", "cactus", "camel", "candle", "canoe",
    "canyon", "cape", "cardinal", "carrot", "castle", "cedar", "cello", "cherry",
    "chestnut", "cicada", "cider", "clam", "cliff", "clover", "cobra", "comet", "condor",
    "coral", "cosmos", "cougar", "cove", "coyote", "crane", "creek", "cricket", "crow",
    "cypress", "daisy", "deer", "delta", "desert", "dingo", "dolphin", "dove", "dragon",
    "dune", "eagle", "echo", "eel", "egret", "elk", "elm", "ember", "falcon", "fern",
    "ferret", "fig", "finch", "fjord", "flame", "flint", "forest", "fox", "frog",
    "gazelle", "gecko", "geyser", "ginger", "glacier", "goose", "gopher", "granite",
    "grape", "grove", "gull", "harbor", "hare", "hawk", "hazel", "heron", "hill", "hippo",
    "honey", "hornet", "husky", "ibis", "iguana", "island", "ivy", "jackal", "jaguar",
    "jasmine", "jay", "jelly", "kayak", "kelp", "kestrel", "kettle", "kite", "kiwi",
    "koala", "lagoon", "lake", "lark", "laurel", "lemon", "lemur", "leopard", "lily",
    "lime", "linden", "lion", "llama", "lobster", "lotus", "lynx", "magpie", "mango",
    "mantis", "maple", "marble", "marmot", "marsh", "meadow", "melon", "mesa", "mink",
    "mint", "mole", "moose", "moth", "mountain", "mouse", "mulberry", "narwhal", "nectar",
    "newt", "nutmeg", "oak", "oasis", "ocelot", "octopus", "olive", "orca", "orchard",
    "osprey", "otter", "owl", "oyster", "panda", "panther", "parrot", "peach", "pebble",
    "pelican", "penguin", "pepper", "pine", "plum", "pond", "poppy", "prairie", "puffin",
    "puma", "quail", "quartz", "rabbit", "raccoon", "radish", "rain", "raven", "reed",
    "reef", "ridge", "river", "robin", "rose", "sage", "salmon", "sparrow", "seal",
    "shark", "shell", "shore", "shrimp", "sky", "sloth", "snail", "spruce", "squid",
    "starling", "stone", "stork", "summit", "swan", "thistle", "thrush", "tiger", "toad",
    "topaz", "tortoise", "toucan", "trout", "tulip", "tundra", "turtle", "valley",
    "violet", "vole", "walnut", "walrus", "wasp", "weasel", "whale", "willow", "wolf",
    "wombat", "wren", "yak", "yarrow", "zebra", "zinnia", "meteor", "nebula", "harp",
    "lantern", "ribbon", "saddle", "sail", "sonnet",
};

G_STATIC_ASSERT (G_N_ELEMENTS (adjectives) == 256);
G_STATIC_ASSERT (G_N_ELEMENTS (nouns) == 256);

/* A number below 1000, uniform: 16 random bits, rejecting the top
 * 65536 % 1000 values so every number is equally likely. */
static guint
random_below_1000 (void)
{
  for (;;)
    {
      guint8 bytes[2];
      guint value;

      gc_ws_random_bytes (bytes, sizeof bytes);
      value = (guint) bytes[0] << 8 | bytes[1];
      if (value < 65000)
        return value % 1000;
    }
}

char *
gc_room_code_random (void)
{
  guint8 words[4];

  gc_ws_random_bytes (words, sizeof words);
  return g_strdup_printf ("%s-%s-%s-%s-%03u",
                          adjectives[words[0]], nouns[words[1]],
                          adjectives[words[2]], nouns[words[3]],
                          random_below_1000 ());
}

double
gc_room_code_entropy_bits (void)
{
  /* log2 (256^4 * 1000) */
  return 32.0 + 9.965784284662087;
}
