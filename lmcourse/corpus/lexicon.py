"""The vocabulary of the story generator in `lmcourse.corpus`: word lists and the parts that
open-ended names are built from. Sentence templates live in `lmcourse.corpus.templates`.

All text here was written for this project. Every list is ordered roughly from common to rare,
because the generator draws ranks from a Zipf-like law (so the first words are frequent and the last
ones turn up only in large corpora, as in real text). Regular inflections are spelled by rule at
import time (`_add`): `_nouns` adds plurals ("box" -> "boxes", "puppy" -> "puppies"; "mouse/mice"
overrides), `_verbs` the past and the -ing form ("skip stones/skipped" -> "skipping stones"; a third
form overrides), `_grades` comparatives and superlatives ("tiny" -> "tinier", "tiniest").
"""

from __future__ import annotations

VOWELS = "aeiou"


def _items(text: str) -> tuple[str, ...]:
    """Comma-separated items (newlines count as commas; multi-word items allowed)."""
    return tuple(item.strip() for item in text.replace("\n", ",").split(",") if item.strip())


def _pairs(text: str) -> tuple[tuple[str, ...], ...]:
    """Comma-separated 'a/b' items."""
    return tuple(tuple(item.split("/")) for item in _items(text))


def _records(text: str) -> tuple[tuple[str, ...], ...]:
    """Semicolon-separated 'key: value' items (values may hold commas)."""
    return tuple(tuple(item.strip().split(": ")) for item in " ".join(text.split("\n")).split(";") if item.strip())


def _add(word: str, suffix: str) -> str:
    """`word` + "s", "ed" or "er" by the regular spelling rules: boxes, puppies, baked, carried, nicer, tinier."""
    if suffix == "s" and word.endswith(("s", "x", "z", "ch", "sh")):
        suffix = "es"
    if word.endswith("y") and word[-2] not in VOWELS:
        return word[:-1] + "i" + ("es" if suffix == "s" else suffix)
    return word + suffix[1:] if word.endswith("e") and suffix[0] == "e" else word + suffix


def _plural(noun: str) -> str:
    return _add(noun, "s")


def _ing(verb: str, past: str) -> str:
    if past == verb + verb[-1] + "ed":  # stop/stopped -> stopping
        return verb + verb[-1] + "ing"
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "oe", "ye")):
        return verb[:-1] + "ing"
    if (sum(c in VOWELS for c in verb) == 1 and not past.endswith("ed") and verb[-1] in "bdgmnpt"
            and verb[-2] in VOWELS and verb[-3:-2] not in tuple(VOWELS)):  # irregular swim/swam -> swimming
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _nouns(text: str) -> tuple[tuple[str, str], ...]:
    """(singular, plural) from 'noun' or 'noun/irregular plural' items."""
    return tuple((word, forms[0] if forms else _plural(word)) for word, *forms in (i.split("/") for i in _items(text)))


def _verbs(text: str) -> tuple[tuple[str, str, str], ...]:
    """(base, past, -ing) phrases from 'verb rest', 'verb rest/past' or 'verb rest/past/ing' items: only
    the first word is inflected, and a past that is not given is regular ("play tag" -> "played tag")."""
    out = []
    for base, *forms in (item.split("/") for item in _items(text)):
        verb, _, rest = base.partition(" ")
        past = forms[0] if forms else _add(verb, "ed")
        ing = forms[1] if len(forms) > 1 else _ing(verb, past)
        out.append((base, (past + " " + rest).strip(), (ing + " " + rest).strip()))
    return tuple(out)


def _grades(text: str) -> tuple[tuple[str, str, str], ...]:
    """(adjective, comparative, superlative) from 'tall', 'big/bigger' or 'good/better/best' items."""
    out = []
    for word, *forms in (item.split("/") for item in _items(text)):
        er = forms[0] if forms else _add(word, "er")
        out.append((word, er, forms[1] if len(forms) > 1 else er[:-2] + "est"))
    return tuple(out)


# --- people -----------------------------------------------------------------------------------------
# Common names by pronoun; `corpus` interleaves them ("she" and "he" in turn, "they" after every four),
# so every rank band mixes all three. Rarer names are built from syllables.
SHE_NAMES = _items("""Mia, Lily, Zoë, Ana, Ruby, Ella, Nora, Ivy, Maya, Chloé, Lucy, Amara, Rosa, Hana, Greta, Inés,
Sofia, Poppy, Luz, Emma, Olivia, Grace, Anna, Sara, Leah, Layla, Aisha, Priya, Yuki, Mei, Emily, Hannah, Clara, Alice,
Isla, Freya, Elsa, Astrid, Nina, Lena, Julia, Marta, Elena, Carmen, Lucía, Valentina, Camila, Amelia, Sophie, Matilda,
Daisy, Rose, Violet, Hazel, Stella, Luna, Aurora, Iris, Pearl, Jade, Willow, Holly, Ellie, Molly, Tilly, Millie, Evie,
Abby, Katie, Josie, Rosie, Zara, Nadia, Leila, Yasmin, Noor, Amira, Salma, Ama, Ada, Nia, Zuri, Imani, Kemi, Chioma,
Thandi, Aroha, Moana, Leilani, Ananya, Diya, Asha, Meera, Fatima, Sakura, Aiko, Mina, Ling, Linh, Mai, Olga, Katya,
Anya, Zofia, Eva, Heidi, Annika, Liv, Saoirse, Niamh, Bronwen, Renée, Anaïs, Léa, Manon, Giulia, Chiara, Bianca,
Beatriz, Mariana, Ximena, Paloma, Esme, Maisie, Phoebe, Harriet, Beatrix, Edith, Mabel, Winnie, Dora, Greer, Juno,
Thea, Cleo, Talia, Maren, Solveig, Dagny, Ottilie, Fern, Marisol, Dalia, Farah, Nasrin, Keiko, Sumi, Ayumi, Min, Xiu,
Tala, Malia, Kiona, Ayasha, Nayeli, Itzel, Citlali, Yara, Ebony, Tamsin, Morwenna""")
HE_NAMES = _items("""Ben, Tom, Max, Leo, Finn, José, Omar, Theo, Jack, Ravi, Eli, Noah, Felix, Björn, Tariq, Milo,
Arjun, Kenji, Søren, Liam, Lucas, Oliver, Henry, Oscar, Hugo, Jonah, Ezra, Caleb, Owen, Ethan, Adam, Isaac, Daniel,
Peter, Simon, Victor, Marco, Mateo, Diego, Pablo, Carlos, Luis, Andrés, Tomás, Rafael, Bruno, Nico, Enzo, Luca,
Pierre, Louis, Jules, Rémi, Hans, Karl, Otto, Lars, Erik, Nils, Magnus, Sven, Ivan, Misha, Pavel, Jakub, Kwame, Kofi,
Tunde, Chidi, Emeka, Jabari, Tendai, Sipho, Ahmed, Ali, Hassan, Yusuf, Karim, Samir, Amir, Hamza, Rohan, Dev, Aarav,
Vikram, Hiro, Kaito, Haruto, Taro, Jun, Wei, Jian, Hao, Minh, Manu, Tane, Koa, Ari, Noam, Aiden, Mason, Jasper, Rufus,
Archie, Alfie, Freddie, Teddy, Billy, Danny, Eddie, Gus, Ned, Ollie, Stanley, Walter, Arthur, Albert, Edgar, Silas,
Ambrose, Barnaby, Cyril, Otis, Levi, Abel, Idris, Bilal, Omari, Kobe, Jomo, Thabo, Luan, Thiago, Joaquín, Iker, Xavi,
Matías, Ruairí, Cian, Oisín, Tadhg, Emrys, Dai, Lachlan, Angus, Fergus, Hamish, Torben, Viggo, Anselm, Kasimir""")
THEY_NAMES = _items("""Sam, Kai, Alex, Robin, River, Sky, Jordan, Riley, Quinn, Avery, Rowan, Sage, Jesse, Charlie,
Frankie, Remy, Ash, Kit, Jamie, Morgan, Phoenix, Wren, Marley, Emery, Eden, Noa, Kiran, Dakota, Arden, Ellis""")
# The open-ended tail: onset + middles + ending, the ending fixing the pronoun ("Kalora" she, "Mitador" he).
NAME_ONSETS = _items("""Ka, Lo, Mi, Ta, Ru, Ne, Bo, Sa, Di, Fe, Ja, Po, Zu, Ha, Vi, Ke, Mo, Li, To, Ra, Ni, Be, Da,
Gi, Wo, Pe, Si, Lu, Ma, Yo, Ar, El, Or, Is, Ul, Bri, Cla, Dra, Fra, Gre, Tri, Sta""")
NAME_MIDDLES = _items("la, ri, no, mi, ta, ve, so, ku, re, di, lo, na, be, ti, mu, sa, ro, li, ka, po, ren, dan, mar")
NAME_ENDINGS = _pairs("""n/he, ra/she, lo/he, to/he, na/she, ry/she, lie/she, l/he, nan/they, ro/he, lia/she, rus/he,
né/they, sa/she, dor/he, vin/he, ssa/she, ki/they, mo/he, la/she, k/he, rin/they""")
# Family names are compounds of two parts ("Honey" + "well"), then syllables with one of the seconds.
SURNAME_FIRSTS = _items("""Apple, Ash, Bar, Bell, Birch, Black, Brad, Bright, Brook, Cald, Clay, Cole, Cotton, Cran,
Cross, Dal, Elm, Fair, Farn, Fen, Fox, Gold, Green, Hal, Har, Hart, Hay, Haw, Hazel, Hol, Honey, Ken, Kettle, Lang,
Lark, Lin, Marsh, Mer, Mill, Moor, Nor, Oak, Pem, Pen, Pepper, Pres, Red, Rad, Rush, Sand, Shel, Silver, Stan, Summer,
Thorn, Tod, Wal, Water, Wes, Whit, White, Win, Winter, Wood""")
SURNAME_SECONDS = _items("""ton, ley, wood, field, well, worth, by, more, stone, brook, ford, bury, wick, dale, hill,
bridge, berry, cott, ham, low, combe, ridge, shaw, stead, croft, wright, smith, berton, ington, hurst, gate, land""")
TITLES = _pairs("Mrs./she, Mr./he, Ms./she, Dr./she, Dr./he, Miss/she, Mx./they")
# Towns: "Willow" + "brook", then syllables with one of the suffixes.
TOWN_FIRSTS = _items("""Willow, Maple, Pebble, Fox, Otter, Bramble, Thistle, Clover, Amber, Misty, Silver, Rose,
Apple, Cherry, Moss, Fern, Heather, Juniper, Lark, Bluebell, Honey, Acorn, Elder, Hazel, Oak, Ash, Pine, Birch, Cedar,
Holly, Meadow, Stone, Sandy, Sunny, Starling, Wren, Robin, Badger, Heron, Kestrel, Swan, Falcon, Bell, Candle, Button,
Copper, Golden, Green, Red, White, North, South, East, West, Little, Long, High, Mill, Kettle, Puddle, Primrose,
Foxglove, Buttercup, Marigold, Lavender, Sorrel, Yarrow, Frost, Snow, Rain, Sun, Moon, Star, Cloud, Mist, Dew, Wind,
Ember, Glimmer, Whistle, Cobble, Tumble, Bumble, Hollow""")
TOWN_SUFFIXES = _items("""brook, wood, ford, vale, field, mere, ton, by, hill, dale, bridge, haven, port, stead, holm,
cove, bury, wick, worth, combe, well, gate, stone, moor, marsh, hollow, hurst, ridge, thorpe, cliff, bank, side, ley,
ham, mouth, water""")
# Pets: a familiar name, then cosy compounds ("Snuggle" + "paws"), then syllables.
PET_NAMES = _items("""Biscuit, Pip, Muffin, Rex, Coco, Pepper, Sunny, Bubbles, Peanut, Ziggy, Mochi, Crumbs, Buddy,
Shadow, Whiskers, Socks, Mittens, Patches, Oreo, Cookie, Noodle, Pickle, Waffles, Nugget, Toffee, Ginger, Cinnamon,
Nutmeg, Pumpkin, Marshmallow, Snowball, Smudge, Bean, Button, Tiger, Fluffy, Fuzzy, Spot, Rover, Lucky, Scout, Bandit,
Rocket, Comet, Pebble, Domino, Dotty, Freckles, Sprinkles, Jellybean, Gizmo, Ruffles, Taco, Bagel, Pretzel, Dumpling,
Tofu, Miso, Kiwi, Olive, Maple, Honey, Teddy, Boots, Tinker, Sparky, Chester, Winston, Gus, Fudge, Clementine,
Truffle, Bramble, Acorn, Sprout, Wiggles""")
PET_FIRSTS = _items("""Snuggle, Wiggle, Fluffer, Jelly, Pickle, Noodle, Waffle, Button, Puddle, Bubble, Jingle,
Doodle, Sprinkle, Pudding, Honey, Marble, Mitten, Cocoa, Sugar, Butter, Tumble, Bumble, Wobble, Giggle, Nibble,
Squiggle, Toffee, Cookie, Pepper, Biscuit, Muffin, Fizz, Patch, Fuzz, Dapple, Velvet, Sunny, Pip, Mochi""")
PET_SECONDS = _items("""paws, puff, bean, nose, toes, boots, socks, pop, bun, drop, tail, ears, belly, cheeks, berry,
cake, face, foot, kins, bottom, sprout, chops, whisk, flop""")
# Dragons, unicorns and other magic friends: "Moon" + "dancer".
CREATURE_FIRSTS = _items("""Ember, Spark, Storm, Moon, Star, Frost, Thunder, Shadow, Silver, Gold, Sun, Cloud, Mist,
Flame, Dawn, Dusk, Sky, Rain, Snow, Glimmer, Twinkle, Shimmer, Bramble, Thorn, Pebble, Copper, Velvet, Whisper, Echo,
River, Coral, Blossom, Petal, Amber, Crystal, Midnight, Rainbow, Sparkle, Willow, Comet""")
CREATURE_SECONDS = _items("""wing, claw, tail, scale, heart, song, feather, mane, horn, glow, beam, flight, dancer,
runner, whistle, fire, light, shine, dust, leaf, fin, hoof, paw, spark, wish, bell""")
# Magic words: a start, middles, an end ("Zim" + "za" + "zoom"); lands: name syllables + an ending.
SPELL_STARTS = _items("Abra, Zim, Bibbidi, Hocus, Ala, Shaz, Flibber, Kaza, Oola, Presto, Razzle, Zippity, Wizzle")
SPELL_MIDDLES = _items("ka, za, la, bim, boo, ma, ri, zoo, doo, pa, fi, wa, zee, lo")
SPELL_ENDS = _items("kazam, dabra, boo, zoom, bop, pop, fizz, zing, zap, bam, roo, loo, dazzle, whirl")
LAND_ENDINGS = _items("ria, land, dor, lon, mar, nella, rum, vax, lis, tondo, veria, nia, ville, stan")

# Made-up plants and critters of magic lands: "moon" + "berry" -> "moonberries".
SPECIES_FIRSTS = _items("""moon, sun, star, snow, rain, sea, sky, cloud, fire, frost, honey, sugar, butter, rose,
silver, gold, mud, sand, dew, mist, storm, thunder, puddle, pebble, glimmer, twinkle, bumble, jelly, velvet, candy,
marsh, wind, ember, pepper""")
SPECIES_SECONDS = _items("""berry, flower, bird, fish, bug, fly, moth, bell, shell, fruit, nut, leaf, seed, beetle,
worm, hopper, drop, bean, blossom, pod, puff, snail, frog, root""")
CITIES = _items("""London, Paris, Tokyo, New York, Rome, Madrid, Lisbon, Berlin, Cairo, Nairobi, Lagos, Mumbai, Delhi,
Sydney, Toronto, Chicago, Mexico City, Lima, Buenos Aires, São Paulo, Seoul, Beijing, Shanghai, Hanoi, Bangkok,
Manila, Jakarta, Istanbul, Athens, Vienna, Prague, Warsaw, Kraków, Oslo, Stockholm, Helsinki, Copenhagen, Dublin,
Edinburgh, Cardiff, Amsterdam, Brussels, Zürich, Geneva, Milan, Naples, Venice, Florence, Barcelona, Seville, Málaga,
Porto, Marrakesh, Tunis, Accra, Dakar, Addis Ababa, Kampala, Kigali, Cape Town, Johannesburg, Durban, Karachi, Lahore,
Dhaka, Kathmandu, Colombo, Chennai, Kolkata, Singapore, Kyoto, Osaka, Sapporo, Busan, Taipei, Auckland, Wellington,
Melbourne, Perth, Honolulu, Vancouver, Montréal, Boston, Seattle, Denver, Austin, Miami, Havana, Bogotá, Medellín,
Quito, Santiago, Montevideo, Caracas, Reykjavík, Tromsø, Bergen, Malmö, Hamburg, Munich, Düsseldorf, Lyon, Marseille,
Nîmes, Bordeaux, Tbilisi, Yerevan, Baku, Tashkent, Almaty, Ulaanbaatar, Valletta, Dubrovnik, Ljubljana, Budapest,
Bucharest, Sofia, Riga, Tallinn, Vilnius, Anchorage, Galway, Oaxaca""")

# --- living things ----------------------------------------------------------------------------------
# Small animals a child can carry home (the help plot picks only from these).
SMALL_ANIMALS = _nouns("""bird, bunny, puppy, kitten, duck, frog, mouse/mice, owl, squirrel, turtle, fox, chick, lamb,
butterfly, bee, ladybug, snail, hedgehog, robin, hamster, lizard, raccoon, parrot, otter, crab, moth, beaver, badger,
penguin, chipmunk, mole, bat, sparrow, pigeon, crow, magpie, wren, bluebird, finch, goldfish/goldfish, guinea pig,
ferret, gerbil, toad, newt, salamander, caterpillar, dragonfly, grasshopper, cricket, firefly, ant, beetle, worm,
spider, starfish/starfish, seahorse, duckling, gosling, piglet, fawn, bear cub, owlet, hummingbird, woodpecker,
kingfisher, puffin, seagull, weasel, stoat, possum, skunk, porcupine, armadillo, chinchilla, meerkat, tadpole, minnow,
shrimp/shrimp, lobster, tortoise, gecko, dormouse/dormice, shrew, vole, lemming, kiwi bird, bumblebee, cardinal,
blue jay, goldfinch, warbler, lark, swallow, quail, sandpiper, plover, wagtail, nuthatch, chickadee, titmouse/titmice,
thrush, blackbird, starling, dove, parakeet, budgie, canary, lovebird, cockatiel, bunting, oriole, tanager, mayfly,
glowworm, silkworm, earthworm, millipede, centipede, ladybird, honeybee, wasp, hornet, cicada, katydid,
mantis/mantises, stick insect, water beetle, pond skater, water strider, hermit crab, fiddler crab, sea urchin,
sea star, sand dollar, periwinkle, limpet, tree frog, bullfrog, axolotl, mudpuppy, skink, anole, garter snake,
slow worm, field mouse/field mice, harvest mouse/harvest mice, pygmy goat, bunny rabbit, baby hedgehog,
kit fox/kit foxes, sugar glider, pika, marmot, prairie dog, ground squirrel, flying squirrel, red squirrel,
gray squirrel, baby otter, baby seal, penguin chick""")
BIG_ANIMALS = _nouns("""dog, cat, bear, horse, cow, pig, sheep/sheep, goat, deer/deer, swan, elephant, lion, tiger,
monkey, giraffe, dolphin, whale, koala, panda, zebra, kangaroo, octopus, seal, wolf/wolves, donkey, pony, camel,
llama, alpaca, hippo, rhino, gorilla, chimpanzee, orangutan, cheetah, leopard, jaguar, moose/moose, elk, bison/bison,
buffalo/buffaloes, ox/oxen, yak, reindeer/reindeer, walrus, polar bear, sea lion, shark, crocodile, alligator,
ostrich, emu, flamingo, peacock, eagle, hawk, falcon, stork, heron, crane, turkey, rooster, hen, goose/geese, rabbit,
hare, lynx, coyote, hyena, antelope, gazelle, iguana, chameleon, snake, toucan, macaw, cockatoo, manatee, narwhal,
orca, stingray, platypus, wombat, dingo, sloth, lemur, tapir, okapi, pelican, albatross, swordfish/swordfish,
sea turtle, beluga, mule, bull, calf/calves""")
ANIMALS = SMALL_ANIMALS[:30] + BIG_ANIMALS[:30] + SMALL_ANIMALS[30:] + BIG_ANIMALS[30:]
PETS = _nouns("dog, cat, puppy, kitten, hamster, rabbit, goldfish/goldfish, parrot, turtle, guinea pig, tortoise")
MAGIC_BEINGS = _nouns("""dragon, unicorn, fairy, elf/elves, giant, gnome, pixie, mermaid, wizard, troll, sprite,
phoenix, griffin, genie, robot, friendly ghost, sea serpent, talking owl, baby dragon, moon rabbit, snow fox,
star whale, dinosaur, tyrannosaurus/tyrannosauruses, triceratops/triceratops, stegosaurus/stegosauruses,
brontosaurus/brontosauruses, pterodactyl, diplodocus/diplodocuses, velociraptor, yeti, centaur, goblin, witch, knight,
princess, prince, pirate, astronaut, space alien, snow queen, ice giant, cloud giant, tooth fairy/tooth fairies,
bookworm, sea monster, kraken, water sprite, tree spirit, hobgoblin, little witch, wise old owl,
silver wolf/silver wolves, pegasus/pegasi""")
FLOWERS = _nouns("""rose, daisy, tulip, sunflower, lily, poppy, daffodil, dandelion, violet, pansy, marigold, orchid,
buttercup, bluebell, snowdrop, primrose, forget-me-not, carnation, peony, iris, lilac, bluebonnet, cornflower,
foxglove, honeysuckle, hyacinth, morning glory, water lily, zinnia, aster, cosmos/cosmos, crocus, daylily, geranium,
lotus, magnolia, petunia, sweet pea""")
TREES = _nouns("""oak, apple tree, maple, willow, pine, birch, cherry tree, palm tree, chestnut tree, fir tree, elm,
beech, cedar, lemon tree, plum tree, pear tree, holly tree, ash tree, redwood, baobab, olive tree, fig tree,
walnut tree, sycamore, cypress, poplar, hawthorn, rowan tree, spruce, magnolia tree""")

# --- food -------------------------------------------------------------------------------------------
FOODS = _nouns("""apple, cookie, banana, orange, carrot, cupcake, strawberry, pear, muffin, grape, sandwich, pie,
cherry, peach, plum, lemon, pancake, pretzel, blueberry, tomato/tomatoes, potato/potatoes, egg, nut, cracker, donut,
waffle, biscuit, melon, mango/mangoes, apricot, radish, cucumber, bun, tangerine, kiwi, fig, raspberry, blackberry,
cranberry, gooseberry, watermelon, pineapple, coconut, papaya, lime, grapefruit, nectarine, clementine, date, raisin,
prune, pomegranate, avocado, olive, pickle, pepper, onion, pea, bean, corn cob, sweet potato/sweet potatoes, pumpkin,
zucchini, eggplant, beet, turnip, parsnip, broccoli stalk, cabbage, lettuce leaf/lettuce leaves, mushroom, chestnut,
walnut, almond, peanut, hazelnut, cashew, pistachio, sunflower seed, cinnamon roll, croissant, bagel, scone, brownie,
doughnut, cheese stick, dumpling, taco, burrito, samosa, spring roll, meatball, sausage, fish cake, rice ball, noodle,
lollipop, gumdrop, marshmallow, jellybean, cherry tomato/cherry tomatoes, flapjack, crumpet, macaron, cream puff,
popsicle, fortune cookie, gingerbread man/gingerbread men, tart, éclair, churro, empanada, pancake stack, jam tart,
cheese scone, oatcake, rice cake, corn muffin, banana muffin, apple turnover, cherry pie, honey bun, sticky bun, pita,
tortilla, chapati, naan, bao bun, onigiri, sushi roll, fish finger, veggie burger, cheeseburger, hot dog, pizza slice,
quesadilla, falafel, kebab, pierogi/pierogi, blini/blini, crepe, strudel, baklava/baklava, mochi/mochi, dango/dango,
lychee, persimmon, guava, passion fruit, starfruit, jackfruit, durian, kumquat, quince, mulberry, elderberry,
huckleberry, boysenberry, loganberry, cloudberry, sugar snap pea, green bean, brussels sprout, cauliflower floret,
artichoke, asparagus spear, leek, shallot, garlic clove, celery stick, butternut squash, acorn squash, rutabaga,
kohlrabi, yam, cassava root, plantain, chickpea, lentil, soybean""")
FOOD_ADJ = _items("""sweet, warm, fresh, juicy, big, red, green, yummy, crunchy, sticky, tasty, ripe, round, little,
golden, soft, crispy, sour, shiny, delicious, spicy, salty, chewy, creamy, fluffy, buttery, hot, cold, tiny, lumpy,
homemade, toasted, sugary, gooey, frosted, squishy, tangy, zesty, plump, speckled""")
BOWLS = _items("""soup, porridge, oatmeal, cereal, rice, noodles, pasta, yogurt, stew, fruit salad, popcorn,
spaghetti, macaroni, mashed potatoes, tomato soup, chicken soup, pumpkin soup, rice pudding, custard, ice cream,
berries, cherries, grapes, peas, beans, chili, curry, dumplings, ramen, risotto, couscous, lentil soup, chowder,
granola, pudding, jelly, applesauce, corn flakes, congee, miso soup""")
DRINKS = _items("""milk, water, orange juice, apple juice, hot cocoa, lemonade, warm milk, grape juice, carrot juice,
pineapple juice, hot chocolate, cold milk, strawberry milk, banana smoothie, mint tea, peach juice, cranberry juice,
chamomile tea, coconut water, mango lassi""")
TOPPINGS = _items("""honey, jam, butter, syrup, cream, cheese, sugar, cinnamon, berries, sprinkles, chocolate chips,
peanut butter, maple syrup, raisins, nuts, whipped cream, sliced bananas, lemon curd, blueberry jam, cream cheese,
brown sugar, coconut flakes, apple slices, poppy seeds""")
CAKES = _items("""chocolate, strawberry, vanilla, lemon, carrot, banana, coconut, cherry, orange, honey, apple,
blueberry, raspberry, caramel, cinnamon, peach, pineapple, pistachio, marble, gingerbread, walnut, hazelnut""")

# --- things -----------------------------------------------------------------------------------------
TOYS = _items("""ball, kite, teddy bear, doll, toy car, truck, drum, book, boat, train, balloon, puzzle, robot, hat,
scarf, blanket, box of crayons, yo-yo, spinning top, jump rope, bucket, shovel, whistle, flute, marble, wagon, sled,
umbrella, backpack, rubber duck, dinosaur, toy rocket, music box, paper crown, piggy bank, flashlight, necklace, map,
magnifying glass, ukulele, piñata, snow globe, kaleidoscope, compass, pinwheel, glove, sock puppet, treasure chest,
bell, lunch box, sticker book, paintbrush, tambourine, harmonica, toy castle, xylophone, seashell, acorn, puppet,
rocking horse, jigsaw puzzle, frisbee, skateboard, scooter, tricycle, bicycle, hula hoop, bubble wand, toy boat,
toy plane, toy tractor, fire truck, race car, dollhouse, stuffed rabbit, stuffed elephant, plush dragon, plush owl,
board game, card game, chess set, paint set, clay set, bead kit, sticker, badge, medal, trophy, toy drum, toy piano,
toy guitar, toy phone, toy camera, walkie-talkie, telescope, microscope, globe, lantern, pocket watch, wind-up mouse,
marble run, train set, toy sword, pirate hat, wizard hat, tiara, cape, magic wand, feather, pebble, crystal, ribbon,
button, stamp album, scrapbook, diary, notebook, pencil case, crayon, rag doll, action figure, glitter jar, slinky,
rattle, bean bag, beach ball, water pistol, sandcastle bucket, fishing net, butterfly net, bird feeder, toy drill,
toy oven, yo-yo string, harmonica case, origami crane, paper boat, paper plane, homemade kite, cardboard box, kazoo,
top hat, bouncy ball, jack-in-the-box, hobby horse, spinning wheel, tin drum, tin soldier, toy robot, paper lantern,
wind chime, stilt, pogo stick, toy submarine, toy helicopter, toy bus, toy crane, toy digger, wooden train,
wooden duck, wooden sword, foam sword, toy shield, knight's helmet, fairy wand, dragon kite, box kite, bubble machine,
jelly bracelet, friendship bracelet, squishy ball, stress ball, fidget spinner, rubber band ball, paper doll,
finger puppet, hand puppet, marionette, nesting doll, spinning dreidel, cup and ball, ring toss, bean bag chair,
water wheel, toy windmill, music book, coloring book, pop-up book, flip book, picture book, joke book, comic book,
puzzle book, atlas of the stars, star chart, treasure map, secret diary, magic eight ball""")
OBJECTS = _items("""key, coin, button, letter, spoon, cup, candle, clock, mirror, jar, basket, bottle, mug, bowl,
plate, pillow, quilt, rug, lamp, chair, stool, ladder, rope, watering can, rake, broom, lock, ring, bracelet,
envelope, postcard, stamp, pencil, crayon, marker, eraser, ruler, notebook, camera, radio, calendar, alarm clock,
teapot, kettle, frying pan, rolling pin, cookie jar, tablecloth, doormat, flowerpot, vase, picture frame, photo album,
birdhouse, wheelbarrow, garden hose, toolbox, hammer, paint can, lunch bag, sewing box, button jar, thimble, needle,
spool of thread, ball of yarn, sock, shoe, boot, mitten, glove, hat, scarf, apron, towel, sponge, soap bar,
toothbrush, comb, hairbrush, hair clip, suitcase, shopping bag, umbrella stand, coat hook, doorbell, mailbox,
wind chime, weather vane, sundial, hourglass, music stand, piano stool, easel, globe, telescope, magnet, battery,
light bulb, fuse, horseshoe, seashell, pine cone, bird's nest, old map, recipe book, cookbook, library book, atlas,
wooden spoon, butter dish, egg cup, pepper pot, salt shaker, bread basket, cake tin, muffin tray, soup pot, ladle,
whisk, sieve, colander, grater, measuring cup, oven mitt, tea towel, dish rack, lunch tray, thermos, water bottle,
piggy bank, jar of buttons, sewing basket, knitting needle, crochet hook, pin cushion, tape measure, screwdriver,
wrench, paint roller, step stool, flower box, bird bath, garden gnome, garden fork, trowel, seed tray, plant pot,
compost bin, rain barrel, hammock, deck chair, beach towel, picnic blanket, picnic basket, cool box, tent peg,
sleeping bag, camping stove, lantern hook, compass needle, spyglass, walking stick, fishing rod, tackle box""")
CLOTHES = _items("""hat, cap, scarf, coat, jacket, raincoat, sweater, hoodie, dress, skirt, shirt, vest, boots, shoes,
sneakers, sandals, slippers, socks, mittens, gloves, pajamas, overalls, jeans, shorts, tights, apron, cape, bow tie,
belt, helmet, goggles, swimsuit, bandana, beanie, beret, bonnet, earmuffs, poncho, cardigan, tutu, tracksuit, uniform,
costume, nightgown, bathrobe, wellies, rain boots, sun hat, straw hat, woolly hat, bobble hat, fleece, dungarees,
pinafore, kilt, sari, kimono, waistcoat, blazer, leg warmers, hair ribbon, headband, backpack, wristband""")
COLORS = _items("""red, blue, green, yellow, orange, purple, pink, brown, black, white, gray, golden, silver,
turquoise, navy, lavender, lilac, violet, indigo, scarlet, crimson, maroon, magenta, beige, cream, ivory, peach,
coral, mint, lime, olive, emerald, amber, bronze, copper, teal, tangerine, lemon, cherry, rose, plum, rust, sand,
sky blue, sea green, bright red, dark blue, pale yellow, light green, deep purple""")
INSTRUMENTS = _items("""drum, flute, piano, violin, guitar, ukulele, trumpet, harp, cello, tuba, xylophone,
tambourine, harmonica, recorder, banjo, accordion, clarinet, saxophone, trombone, triangle, bagpipes, mandolin, oboe,
bassoon, bongo drums, maracas, glockenspiel, french horn, double bass, kazoo""")
VEHICLES = _items("bus, train, tram, subway, early bus, little train, red bus, slow train, school bus, night bus")
NATURE = _items("""pebble, acorn, feather, pine cone, snail shell, conker, smooth stone, four-leaf clover,
heart-shaped stone, robin's egg shell, bird's feather, sycamore seed, red leaf, golden leaf, seashell,
piece of sea glass, fossil, shiny beetle, tiny mushroom, striped stone, hazelnut, dandelion clock, daisy,
dragonfly wing, wishbone-shaped twig""")
MAGIC_THINGS = _items("""stone, key, shell, feather, pencil, coin, mirror, acorn, button, spoon, ring, lantern, seed,
pebble, marble, bell, umbrella, teacup, leaf, crayon, star, paintbrush, music box, snow globe, hat, book""")

# --- places -----------------------------------------------------------------------------------------
# Places a child can be "in" and go "to" ("walking in the park"; not "in the beach").
PLACES = _items("""park, garden, forest, meadow, playground, field, yard, woods, orchard, backyard, valley,
village square, flower garden, pine forest, school garden, sunflower field, apple orchard, jungle, tall grass, swamp,
pumpkin patch, berry patch, vegetable garden, rose garden, greenhouse, barn, clearing, glade, grove, town square,
marsh, prairie, vineyard, bamboo forest, olive grove, cherry orchard, herb garden, wildflower meadow,
botanical garden, community garden, rainforest, oak wood, bluebell wood, hayfield, cornfield, wheat field,
tulip field, lavender field, strawberry field, moor, dunes, heath, rice field""")
PLACE_ADJ = _items("""quiet, busy, sunny, green, dark, big, small, old, pretty, windy, shady, peaceful, muddy, snowy,
misty, leafy, grassy, foggy, wild, secret, sleepy, noisy, golden, hidden, faraway, bright, chilly, breezy, enchanted,
overgrown""")
TRIPS = _items("""market, farm, zoo, beach, fair, aquarium, museum, circus, library, lake, river, seaside, harbor,
mountains, bakery, post office, fire station, train station, pet shop, toy shop, bookshop, ice rink, swimming pool,
carnival, planetarium, science museum, water park, campsite, lighthouse, castle, island, waterfall, bird sanctuary,
flower show, parade, county fair, puppet show, ballet, concert, bowling alley, skating park, butterfly house,
dinosaur museum, art gallery, cheese shop, candy shop, ice cream parlor, farmers market, harvest festival,
kite festival, boat show, cave, hot spring, windmill, observatory""")
SPOTS = _items("""under the bed, behind the sofa, in the garden, inside the toy box, under the table, in the kitchen,
behind the door, in the bathtub, under a pile of clothes, in the car, on the shelf, in the closet, under the stairs,
in the sandbox, next to the flowerpots, in the laundry basket, on the porch, behind the curtains, under a pillow,
in the dog's bed, at the bottom of the bag, in the washing machine, inside a boot, in the cookie jar,
behind the bookcase, in the shed, under the car seat, on the windowsill, in the attic, in the cellar,
under the doormat, in the mailbox, behind the fridge, inside the piano, in the garage, under the hedge,
in the treehouse, next to the bird bath, in the wheelbarrow, in a kitchen drawer, in the bread bin,
under the porch steps, behind the radiator, in the fruit bowl""")
STREETS = _items("Street, Lane, Road, Avenue, Way, Close, Drive, Court, Place, Row, Hill, Crescent, Gardens, Walk")

# --- describing words -------------------------------------------------------------------------------
CHARACTER_ADJ = _items("""little, kind, brave, curious, happy, shy, clever, cheerful, friendly, small, young, smart,
funny, gentle, busy, sleepy, playful, bold, quiet, helpful, silly, proud, thoughtful, lively, adventurous, honest,
polite, careful, eager, imaginative, bright, caring, creative, daring, dreamy, energetic, generous, giggly,
hardworking, hopeful, jolly, joyful, loving, merry, patient, peppy, plucky, sunny, sweet, talkative, tidy, bouncy,
chatty, cheeky, clumsy, determined, easygoing, fearless, forgetful, goofy, grumpy, messy, nosy, restless, sensible,
spirited, stubborn, wise, witty, zany, observant, musical, sporty, artistic, bookish, mischievous, inventive,
resourceful, sociable, whimsical, daydreaming, big-hearted, brainy, chirpy, cuddly, dainty, fidgety, fussy,
gentle-hearted, gutsy, happy-go-lucky, hearty, kindhearted, lighthearted, lovable, mild, nimble, outgoing, peaceful,
perky, quick-witted, quirky, rosy-cheeked, scrappy, soft-spoken, spunky, sprightly, steady, sunny-faced, tender,
tenderhearted, trusting, upbeat, warmhearted, wide-eyed, zippy, freckled, curly-haired, gap-toothed, long-legged,
sharp-eyed, sure-footed, fast-talking""")
ANIMAL_ADJ = _items("""little, fluffy, tiny, brave, shy, curious, sleepy, hungry, clever, friendly, grumpy, playful,
spotted, striped, old, young, gentle, silly, fast, noisy, quiet, wet, muddy, lonely, shaggy, skinny, round, orange,
brown, gray, white, black, speckled, wobbly, scruffy, chubby, cuddly, fuzzy, furry, nervous, bouncy, bold, chatty,
cheeky, clumsy, dusty, fierce, fluffy-tailed, hairy, jumpy, lazy, lost, mighty, nimble, patient, plump, proud, rusty,
sleek, sly, smelly, soggy, sneaky, spiky, stripy, timid, weary, wild, wise, long-eared, three-legged, bright-eyed,
golden, silvery, snowy, tired, downy, feathery, fuzzy-headed, glossy, knobbly, leggy, lumbering, pint-sized, plucky,
prickly, roly-poly, rumpled, scaly, shiny-eyed, short-tailed, silky, slippery, slow, soft, speedy, squeaky, squishy,
stout, tubby, twitchy, velvety, whiskery, wiry, woolly, yawning, bashful, dozy, drowsy, frisky, giddy, gangly, lanky,
perky, poky, zippy""")
THING_ADJ = _items("""red, blue, shiny, new, old, big, small, soft, green, round, yellow, bright, colorful, wooden,
golden, silver, tiny, beautiful, special, purple, pink, magic, squeaky, sparkly, striped, fuzzy, heavy, orange,
spotted, plastic, metal, funny, huge, glittery, lumpy, crooked, enormous, ancient, velvet, polka-dot, battered, bendy,
bouncy, brand-new, broken, bumpy, chunky, cozy, creaky, curly, dented, dusty, fancy, faded, flat, fluffy, furry,
giant, gleaming, glowing, handmade, jingly, knitted, little, long, lovely, mini, muddy, noisy, painted, patched,
pointy, precious, puffy, rainbow, rattly, rubbery, rusty, scratchy, secret, shabby, silky, slimy, smooth, spiky,
sticky, stripy, sturdy, tall, tattered, teeny, tinkly, twisty, wavy, wobbly, woolly, wonderful, zigzag, checkered,
spotty, speckled, feathery, homemade, borrowed, favorite, forgotten, lost, mysterious, peculiar, shimmering, squashy,
squishy, stretchy, tangled, tiny little, toasty, trusty, twinkling, velvety, weathered, wiggly, wind-up, worn-out,
bright yellow, sky-blue, pea-green, rosy, cherry-red, snow-white, jet-black, coal-black, glossy, grimy, scuffed,
lopsided, crumpled, freshly painted, hand-knitted, hand-painted, jingling, rumbly, clattery, clicky, whirring,
buzzing, blinking""")
MAGIC_ADJ = _items("""glowing, sparkly, strange, shimmering, silver, golden, tiny, humming, twinkly, smooth, ancient,
warm, rainbow, whispering, singing, glittering, dusty, crystal, moonlit, secret""")
HAPPY = _items("""happy, glad, proud, excited, calm, cheerful, joyful, thankful, relieved, delighted, safe,
warm inside, grateful, brave, hopeful, content, cozy, peaceful, thrilled, overjoyed, pleased, light as a feather,
bubbly, giddy, loved, lucky, satisfied, sunny inside, full of joy, over the moon""")
SAD = _items("""sad, upset, worried, grumpy, lonely, frustrated, cross, disappointed, gloomy, tired, nervous, annoyed,
confused, unhappy, miserable, glum, sulky, teary, heartbroken, embarrassed, anxious, restless, jealous, left out,
down, blue, fed up, puzzled, scared, shaky""")
# Comparable words for toys and towers ("bigger", "shiniest").
GRADES = _grades("""big/bigger, shiny, pretty, bright, smooth, round, tiny, small, sparkly, odd, strange, fancy,
lovely, nice, heavy, rare, old, long, soft, cute/cuter, funny, glossy, neat, fine, lucky, grand, dusty, curly,
good/better/best, shabby, tidy, light, dark, plain, scruffy, bumpy, spotty, stripy, crinkly, wrinkly""")
ADVERBS = _items("""softly, quietly, happily, slowly, carefully, gently, proudly, calmly, shyly, cheerfully,
patiently, eagerly, gladly, quickly, kindly, curiously, thoughtfully, excitedly, politely, bravely, nervously,
hopefully, joyfully, seriously, steadily, dreamily, gratefully, sleepily, warmly, sweetly, loudly, silently, wisely,
cleverly, playfully, merrily, firmly, boldly, tenderly, lovingly, timidly, solemnly, gleefully, cautiously,
contentedly, bashfully, earnestly""")
WEATHER = _items("""sunny, rainy, windy, snowy, cloudy, foggy, chilly, warm, hot, frosty, misty, stormy, breezy,
drizzly, icy, gray, bright, crisp, muggy, cool""")
SOUNDS = _items("""squeak, buzz, rustle, splash, thump, crunch, creak, hum, chirp, tap, click, crash, pop, swish,
whoosh, whistle, rattle, jingle, clang, plop, hoot, honk, purr, growl, tinkle, ding, bang, thud, flutter, crackle,
gurgle, snap, sniff, squelch, clatter, murmur, ping, drip, toot, ring""")

SAID = _items("said, said, said, whispered, called, murmured, announced, declared, remarked, mumbled, called out")
CHEERED = _items("shouted, cheered, laughed, giggled, squealed, cried, beamed, sang, whooped, exclaimed, chirped")
MOVED = _items("""hopped, scurried, waddled, crawled, raced, tiptoed, wandered, zoomed, skipped, tumbled, rolled,
bounced, darted, dashed, trotted, scampered, scuttled, wobbled, shuffled, strolled, marched, leaped, slithered,
fluttered, padded, crept, hurried, sprinted, sauntered, galloped, paddled, wriggled, zigzagged, pranced, plodded,
toddled, bolted, flapped, floated, drifted, glided, swooped, soared, dived, splashed, sneaked, stomped, stumbled,
staggered, lurched, limped, skidded, slipped, loped, ambled, meandered, pattered, pottered, hobbled, teetered,
twirled, whirled""")

# --- doing ------------------------------------------------------------------------------------------
ACTIVITIES = _verbs("""play tag, build sandcastles/built, draw pictures/drew, sing songs/sang, read stories/read,
play hide and seek, ride bikes/rode, swim/swam, dance, climb trees, bake cookies, paint, run races/ran,
fly kites/flew, jump rope, pick flowers, catch bugs/caught, make paper boats/made, play music, tell jokes/told,
look at the stars, splash in puddles, collect leaves, plant seeds, skip stones/skipped, feed the ducks/fed,
build forts/built, solve puzzles, write letters/wrote, make music/made, roll down the hill/rolled, play ball,
make snowmen/made, blow bubbles/blew, hunt for shells, paint pictures, make necklaces/made, string beads/strung,
knit scarves/knitted, sew puppets/sewed, bake bread, make pancakes/made, water the plants, dig for worms/dug,
build with blocks/built, play the drums, play the piano, play chess, play cards, play checkers, play board games,
play dress-up, play pretend, play soccer, play basketball, play catch, play hopscotch, play marbles, ride horses/rode,
skate, go sledding/went, go fishing/went, go camping/went, go hiking/went, do cartwheels/did, do somersaults/did,
do magic tricks/did, juggle balls, hum tunes/hummed, climb rocks, explore caves, look for fossils, count clouds,
watch the birds, watch the boats, feed the chickens/fed, brush the pony, walk the dog, chase butterflies,
catch fireflies/caught, collect stamps, collect stickers, collect rocks, collect seashells, press flowers,
make daisy chains/made, make mud pies/made, make birthday cards/made, make masks/made, fold paper cranes,
practice the violin, learn new words/learned, read comics/read, write poems/wrote, write stories/wrote,
tell stories/told, sing lullabies/sang, dance ballet, jump on the trampoline, swing on the swings/swung,
slide down the slide/slid, play the guitar, fix old clocks, draw maps/drew, make up songs/made, build robots/built,
grow vegetables/grew, pick berries, pick apples, bake pies, decorate cakes, carve pumpkins, rake leaves,
throw snowballs/threw, make snow angels/made, build igloos/built, fly paper planes/flew, roller-skate, play the flute,
play the trumpet, do puzzles/did, do yoga/did, stack blocks/stacked, sort buttons, paint rocks, bounce balls,
float paper boats, race toy cars/raced, visit the library/visited, feed the goldfish/fed, plant tulips,
make lemonade/made, sell lemonade/sold, play leapfrog, play in the sand, count the stars, look for ladybugs,
listen to the rain/listened, watch the sunset, splash in the waves, go canoeing/went, go swimming/went,
ride the carousel/rode, play the ukulele, sing in the choir/sang, play in the band, build a treehouse/built,
paint the fence, wash the car, wash the dog, hunt for treasure, dress up as pirates, put on puppet shows/put,
make sock puppets/made, recite poems, play word games, spin tops/spun, hop like frogs/hopped, march like soldiers,
waddle like penguins, build birdhouses/built, knit hats/knitted, draw comics/drew, whistle tunes, feed the birds/fed,
look for four-leaf clovers, make crowns out of leaves/made, sweep the porch/swept, help in the kitchen, bake muffins,
peel oranges, shell peas, weed the garden, mow the lawn/mowed, chase the waves, kick a ball around/kicked,
play frisbee, play volleyball, play tennis, do handstands/did""")
# A grown-up's job and what it means, for "{His} mom was a baker. Every day, she bakes...".
JOBS = _records("""baker: baked bread for the whole town; doctor: helped sick people feel better;
teacher: taught children to read and write; farmer: grew corn and took care of the cows;
firefighter: put out fires and rescued cats from trees; nurse: looked after people in the hospital;
vet: took care of sick animals; pilot: flew big planes across the sea;
chef: cooked delicious food in a busy restaurant; builder: built houses and schools;
painter: painted houses in bright colors; artist: painted pictures of the sea;
musician: played the violin in an orchestra; librarian: looked after thousands of books;
mail carrier: brought letters to every house on the street; bus driver: drove a big red bus around town;
gardener: looked after the flowers in the park; sailor: sailed a ship across the ocean;
scientist: studied stars through a giant telescope; inventor: built clever machines in a workshop;
carpenter: made tables and chairs out of wood; plumber: fixed leaky pipes; mechanic: fixed cars and trucks;
dentist: helped people keep their teeth clean; zookeeper: fed the lions and the penguins;
beekeeper: looked after thousands of bees; shopkeeper: ran a little shop on the corner;
tailor: sewed clothes for the whole town; potter: made bowls and cups out of clay;
photographer: took pictures of weddings and birthdays; writer: wrote books for children;
clown: made people laugh at the circus; lifeguard: kept swimmers safe at the beach;
park ranger: looked after the forest and its animals; lighthouse keeper: kept the light shining for the ships;
florist: sold flowers in a little shop; barber: cut people's hair; engineer: designed bridges;
architect: drew plans for new buildings; reporter: wrote stories for the newspaper;
train driver: drove the train to the city; astronaut: trained to fly to the moon; clockmaker: fixed old clocks;
fisher: caught fish in the sea; cook: made lunch for a big school; police officer: helped people stay safe;
judge: listened carefully to both sides; mayor: looked after the whole town; juggler: juggled at the town fair;
baker's helper: made the dough for the bread; weaver: wove colorful blankets; shoemaker: made shoes by hand;
glassblower: made glass vases; puppeteer: made puppets dance; magician: did tricks with cards and hats;
dog walker: walked ten dogs every morning; gardener's helper: planted trees in the park;
museum guide: showed people old treasures; chocolate maker: made chocolate by hand; game designer: made board games;
ice cream maker: invented new ice cream flavors; toymaker: made wooden toys""")
NUMBER_WORDS = _items("""zero, one, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve, thirteen,
fourteen, fifteen, sixteen, seventeen, eighteen, nineteen, twenty""")
ORDINALS = _items("first, second, third, fourth, fifth, sixth, seventh, eighth, ninth, tenth, eleventh, twelfth")
EMOJI = _items("🌟, 😊, 🎈, 🌈, ❤️, 🐾, ☀️, 🎉, 🍰, 🐶, 🌻, 🦋, 🎂, ⭐, 🐱, 🍎")
