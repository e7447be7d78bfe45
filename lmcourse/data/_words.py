"""The words and sentence templates of the story generator in `lmcourse.data.corpus`.

All text here was written for this project. Lists are ordered roughly from common to rare, because
the generator picks from them with a bias towards the front (so word frequencies fall off the way
they do in real text instead of being flat).

Templates are `str.format_map` strings over the fields `corpus._story` fills for each story: the hero
(`name he He him his His self was wasnt a_hero age act acted`), the friend (`friend fhe fHe fhim
fhis fwas`), the parent (`parent Parent phe pHe`), things, animals, food, places, numbers
(`n k left Left`) and the plot's own fields. "{He} {was}" agrees with the pronoun; after a name the
verb is always singular ("Sam was"). A slot is a tuple of alternatives, picked uniformly; an empty
alternative means "say nothing here", and repeating one makes it likelier.
"""

from __future__ import annotations


def _items(text: str) -> tuple[str, ...]:
    """Comma-separated items, one list per triple-quoted block (multi-word items allowed)."""
    return tuple(item.strip() for item in text.replace("\n", ",").split(",") if item.strip())


def _pairs(text: str) -> tuple[tuple[str, ...], ...]:
    """Comma-separated 'a/b' items, e.g. singular/plural or base/past-tense verb forms."""
    return tuple(tuple(item.split("/")) for item in _items(text))


# --- people ---------------------------------------------------------------------------------------
# The most frequent names, with the pronoun each one uses. Rarer names are built from syllables.
HEAD_NAMES = _pairs("""
Mia/she, Ben/he, Lily/she, Tom/he, Sam/they, Zoë/she, Max/he, Ana/she, Leo/he, Ruby/she, Finn/he,
José/he, Ella/she, Omar/he, Nora/she, Kai/they, Ivy/she, Theo/he, Maya/she, Jack/he, Chloé/she,
Ravi/he, Lucy/she, Eli/he, Amara/she, Noah/he, Rosa/she, Felix/he, Hana/she, Björn/he, Alex/they,
Greta/she, Tariq/he, Inés/she, Milo/he, Sofia/she, Arjun/he, Poppy/she, Kenji/he, Luz/she, Søren/he
""")
# Syllables for the open-ended tail of names: onset + middles + ending (the ending fixes the pronoun).
NAME_ONSETS = _items("""
Ka, Lo, Mi, Ta, Ru, Ne, Bo, Sa, Di, Fe, Ja, Po, Zu, Ha, Vi, Ke, Mo, Li, To, Ra, Ni, Be, Da, Gi, Wo,
Pe, Si, Lu, Ma, Yo
""")
NAME_MIDDLES = _items("la, ri, no, mi, ta, ve, so, ku, re, di, lo, na, be, ti, mu, sa, ro, li, ka, po")
NAME_ENDINGS = _pairs("""
n/he, ra/she, lo/he, to/he, a/she, y/she, ie/she, el/he, an/they, o/he, ia/she, us/he, é/they
""")
PLACE_SUFFIXES = _items("ton, wood, ford, vale, brook, by, field, mere, stead, holm")

PRONOUNS = {
    "she": dict(he="she", He="She", him="her", his="her", His="Her", self="herself", was="was",
                wasnt="wasn't", kid="girl"),
    "he": dict(he="he", He="He", him="him", his="his", His="His", self="himself", was="was",
               wasnt="wasn't", kid="boy"),
    "they": dict(he="they", He="They", him="them", his="their", His="Their", self="themselves",
                 was="were", wasnt="weren't", kid="kid"),
}
PARENTS = _pairs("mom/she, dad/he, grandma/she, grandpa/he")

# --- things -----------------------------------------------------------------------------------------
# Small animals first: those are the ones a child can carry home (the HELP plot picks only from them).
ANIMALS = _pairs("""
dog/dogs, cat/cats, bird/birds, bunny/bunnies, puppy/puppies, kitten/kittens, duck/ducks, frog/frogs,
mouse/mice, owl/owls, squirrel/squirrels, turtle/turtles, fox/foxes, chick/chicks, lamb/lambs,
butterfly/butterflies, bee/bees, ladybug/ladybugs, snail/snails, hedgehog/hedgehogs, robin/robins,
hamster/hamsters, lizard/lizards, raccoon/raccoons, parrot/parrots, goose/geese, otter/otters,
crab/crabs, moth/moths, beaver/beavers, badger/badgers, penguin/penguins,
fish/fish, bear/bears, horse/horses, cow/cows, pig/pigs, sheep/sheep, goat/goats, deer/deer, swan/swans,
elephant/elephants, lion/lions, tiger/tigers, monkey/monkeys, giraffe/giraffes, dolphin/dolphins,
whale/whales, koala/koalas, panda/pandas, zebra/zebras, kangaroo/kangaroos, octopus/octopuses,
seal/seals, wolf/wolves
""")
SMALL_ANIMALS = ANIMALS[:32]
PETS = ("dog", "cat", "puppy", "kitten")
PET_NAMES = _items("Biscuit, Pip, Muffin, Rex, Coco, Pepper, Sunny, Bubbles, Peanut, Ziggy, Mochi, Crumbs")
THINGS = _items("""
ball, kite, teddy bear, doll, toy car, truck, drum, book, boat, train, balloon, puzzle, robot, hat,
scarf, blanket, box of crayons, yo-yo, spinning top, jump rope, bucket, shovel, whistle, flute,
marble, wagon, sled, umbrella, backpack, rubber duck, dinosaur, toy rocket, music box, paper crown,
piggy bank, flashlight, necklace, map, magnifying glass, ukulele, piñata, snow globe, kaleidoscope,
compass, pinwheel, glove, sock puppet, treasure chest, bell, lunch box, sticker book, paintbrush,
tambourine, harmonica, toy castle, xylophone, seashell, acorn
""")
FOODS = _pairs("""
apple/apples, cookie/cookies, banana/bananas, orange/oranges, carrot/carrots, cupcake/cupcakes,
strawberry/strawberries, pear/pears, muffin/muffins, grape/grapes, sandwich/sandwiches, pie/pies,
cherry/cherries, peach/peaches, plum/plums, lemon/lemons, pancake/pancakes, pretzel/pretzels,
blueberry/blueberries, tomato/tomatoes, potato/potatoes, egg/eggs, nut/nuts, cracker/crackers,
donut/donuts, waffle/waffles, biscuit/biscuits, melon/melons, mango/mangoes, apricot/apricots,
radish/radishes, cucumber/cucumbers, bun/buns, tangerine/tangerines, kiwi/kiwis, fig/figs
""")
CAFE_TREATS = _items("""
a cup of hot cocoa, a slice of apple pie, a warm croissant, a bowl of soup, a glass of lemonade,
a little crème caramel, a cinnamon roll, a cheese sandwich, a mug of warm milk, a piece of honey cake
""")
# Places a child can be "in" ("walking in the park"; not "in the beach").
PLACES = _items("""
park, garden, forest, meadow, playground, field, yard, woods, orchard, backyard, valley, village square,
flower garden, pine forest, school garden, sunflower field, apple orchard, jungle, tall grass, swamp
""")
HOMES = _items("""
in a small house near the sea, in a yellow house on a hill, in a cozy house at the edge of the woods,
in a busy city, in a little cottage by the river, on a big farm, in a tall apartment building,
in a tree house, in a quiet village, in a blue house with a red door, in a burrow under an old oak
""")
SPOTS = _items("""
under the bed, behind the sofa, in the garden, inside the toy box, under the table, in the kitchen,
behind the door, in the bathtub, under a pile of clothes, in the car, on the shelf, in the closet,
under the stairs, in the sandbox, next to the flowerpots, in the laundry basket, on the porch,
behind the curtains, under a pillow, in the dog's bed, at the bottom of the bag
""")

# --- describing words ---------------------------------------------------------------------------------
CHARACTER_ADJ = _items("""
little, kind, brave, curious, happy, shy, clever, cheerful, friendly, small, young, smart, funny,
gentle, busy, sleepy, playful, bold, quiet, helpful, silly, proud, thoughtful, lively, adventurous,
honest, polite, careful, eager, imaginative
""")
ANIMAL_ADJ = _items("""
little, fluffy, tiny, brave, shy, curious, sleepy, hungry, clever, friendly, grumpy, playful, spotted,
striped, old, young, gentle, silly, fast, noisy, quiet, wet, muddy, lonely, shaggy, skinny, round,
orange, brown, gray, white, black, speckled, wobbly, scruffy
""")
THING_ADJ = _items("""
red, blue, shiny, new, old, big, small, soft, green, round, yellow, bright, colorful, wooden, golden,
silver, tiny, beautiful, special, purple, pink, magic, squeaky, sparkly, striped, fuzzy, heavy, orange,
spotted, plastic, metal, funny, huge, glittery, lumpy, crooked, enormous, ancient, velvet, polka-dot
""")
FOOD_ADJ = _items("""
sweet, warm, fresh, juicy, big, red, green, yummy, crunchy, sticky, tasty, ripe, round, little,
golden, soft, crispy, sour, shiny, delicious
""")
MAGIC_ADJ = _items("glowing, sparkly, strange, shimmering, silver, golden, tiny, humming, twinkly, smooth")
PLACE_ADJ = _items("quiet, busy, sunny, green, dark, big, small, old, pretty, windy, shady, peaceful, muddy, snowy")
HAPPY = _items("""
happy, glad, proud, excited, calm, cheerful, joyful, thankful, relieved, delighted, safe, warm inside,
grateful, brave, hopeful
""")
SAD = _items("sad, upset, worried, grumpy, lonely, frustrated, cross, disappointed, gloomy, tired, nervous")
SAID = _items("said, said, said, asked, shouted, whispered, called, replied, cried, giggled, added, laughed")
# No weather here: "One windy day" would contradict a plot that needs "no wind" (see SETTING).
WHEN = _items("""
One day, One sunny morning, Early one morning, One afternoon, On Saturday, After lunch, After school,
On Sunday, One bright morning, Late one afternoon, The next week, On the first day of the holidays
""")
ACTIVITIES = _pairs("""
play tag/played tag, build sandcastles/built sandcastles, draw pictures/drew pictures, sing songs/sang songs,
read stories/read stories, play hide and seek/played hide and seek, ride bikes/rode bikes, swim/swam,
dance/danced, climb trees/climbed trees, bake cookies/baked cookies, paint/painted, run races/ran races,
fly kites/flew kites, jump rope/jumped rope, pick flowers/picked flowers, catch bugs/caught bugs,
make paper boats/made paper boats, play music/played music, tell jokes/told jokes,
look at the stars/looked at the stars,
splash in puddles/splashed in puddles, collect leaves/collected leaves, plant seeds/planted seeds,
skip stones/skipped stones, feed the ducks/fed the ducks, build forts/built forts, solve puzzles/solved puzzles,
write letters/wrote letters, make music/made music, roll down the hill/rolled down the hill,
play ball/played ball, make snowmen/made snowmen, blow bubbles/blew bubbles, hunt for shells/hunted for shells
""")
EMOJI = _items("🌟, 😊, 🎈, 🌈, ❤️, 🐾, ☀️, 🎉")
NUMBER_WORDS = _items("zero, one, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve")

# --- story pieces shared by several plots ---------------------------------------------------------------
OPENING = (
    "Once upon a time, there was {a_hero} named {name}.",
    "Once upon a time, in a town called {town}, there lived {a_hero} named {name}.",
    "Once upon a time, in a village called {town}, there lived {a_hero} named {name}.",
    "There once was {a_hero} called {name}. {He} lived {home}.",
    "{name} was {a_hero} who lived {home}.",
    "Once upon a time, there was {a_hero}. {His} name was {name}.",
)
INTRO = (
    ("", "{He} {was} {age} years old.", "{name} was {age} years old."),
    ("", "{He} loved to {act}.", "Every day, {he} liked to {act} with {his} friend {friend}.",
     "{His} favorite thing in the world was to {act}."),
    ("", "", "{He} lived with {his} {parent} and a {pet} named {petname}.",
     "{He} had a {pet} named {petname}, who followed {him} everywhere."),
)
SETTING = ("", "", "The sun was shining, and the birds were singing.", "The sky was blue, and a soft wind blew.",
           "The air smelled of flowers and fresh grass.", "Big white clouds floated across the sky.")
MORAL = ("", "", "{name} learned that {moral}.", "From that day on, {name} knew that {moral}.",
         "And so {name} learned something important: {moral}.")
ENDING = ("", "", "The end.", "It was the best day ever.", "{name} smiled. It had been a wonderful day.",
          "And they all lived happily ever after.", "That night, {name} fell asleep with a big smile.")

# --- plots: each is the rows it picks one of (fields filled together so they fit each other), its morals,
# and its paragraphs (tuples of slots; a str slot is a single template).
WANT = dict(
    fields=("goal", "obstacle", "success"),
    rows=(
        ("climb the big hill behind {his} house", "But the hill was steep, and {his} legs got tired halfway up.",
         "{friend} held {his} hand, and they climbed together, one step at a time. "
         "At the top, they could see the whole town."),
        ("fly a kite", "But there was no wind, and the kite kept falling down.",
         "They waited on the hill until a strong wind came. Then the kite went up, up, up, high into the sky."),
        ("learn to swim", "But the water was cold, and {he} {was} scared of the deep end.",
         "{friend} showed {him} how to kick and move {his} arms. Soon {name} could swim all the way across the pool."),
        ("bake a cake for {his} {parent}", "But the first cake came out flat and burnt.",
         "They read the recipe again, used two eggs instead of one, and watched the oven closely. "
         "This time the cake was tall and soft."),
        ("build the tallest tower of blocks", "But every time the tower got big, it fell down with a crash.",
         "{friend} said, \"Put the big blocks at the bottom.\" The new tower stood tall and did not fall."),
        ("find the end of the rainbow", "But the rainbow kept moving away.",
         "They never found the end of the rainbow, but they found a field full of flowers of every color."),
        ("ride a bike without help", "But {he} wobbled and fell on the grass again and again.",
         "{friend} ran next to {him} and held the seat, and then let go. "
         "{name} rode all the way down the street by {self}!"),
        ("grow a sunflower", "But for many days, nothing came out of the ground.",
         "Every morning they gave the seed some water. "
         "One day a little green leaf came up, and by summer the sunflower was taller than {name}."),
        ("see a shooting star", "But every night, {he} fell asleep before any star fell.",
         "They took a blanket to the hill and stayed awake together. "
         "Late in the night, a bright star shot across the sky."),
        ("win the race at school", "But the other kids were very fast.",
         "{name} practiced every day with {friend}. "
         "On the day of the race, {he} ran faster than ever before and came in first."),
        ("sing in the school show", "But {he} {was} too shy to sing in front of so many people.",
         "{friend} stood next to {him} on the stage, and they sang the song together. Everyone clapped and cheered."),
        ("catch a fish in the pond", "But the fish swam away every time.",
         "{friend} said, \"Sit very still and be patient.\" "
         "After a long wait, {name} caught a little silver fish, looked at it, and let it go."),
        ("make a big snowman", "But the snow was too dry, and the balls fell apart.",
         "They waited until the sun made the snow wet and sticky. "
         "Then they rolled three big balls and made the best snowman in town."),
        ("read a whole book by {self}", "But some of the words were long and hard.",
         "{friend} helped {him} sound out the hard words, one letter at a time. "
         "After a week, {name} read the last page all by {self}."),
        ("cross the river to the other side", "But the river was wide, and there was no bridge.",
         "They found big flat stones and put them in a line across the water. "
         "Then they hopped from stone to stone to the other side."),
        ("reach the cookie jar on the top shelf", "But the shelf was much too high.",
         "{friend} had an idea: they asked {his} {parent} for help. {Parent} laughed and gave them each two cookies."),
    ),
    moral=("you should never give up", "it is okay to ask for help", "friends can do hard things together",
           "trying again is how we learn", "hard things get easier with practice"),
    story=(
        (OPENING,) + INTRO,
        (("{When}, {name} wanted to {goal}.", "{name} had a big dream. {He} wanted to {goal}.",
          "{When}, {name} decided that {he} would {goal}.", "More than anything, {name} wanted to {goal}."),
         "{obstacle}",
         ("{name} tried again and again, but it didn't work.", "{name} felt {sad}.", "",
          "{He} didn't know what to do.", "{He} sat down and sighed.")),
        (("\"What's wrong?\" asked {friend}.\n\"I want to do it so much, but I can't,\" said {name}.\n"
          "\"Don't worry. I'll help you!\" said {friend}.",
          "{friend} saw that {name} was {sad}. \"Why are you {sad}?\" {fhe} asked.\n\"It's too hard,\" {name} said.\n"
          "\"Let's try together,\" said {friend}. \"Two heads are better than one!\"",
          "{name} went to see {his} friend {friend}. \"Can you help me? I've tried and tried, but I can't do it.\"\n"
          "\"Of course I'll help,\" said {friend}. \"That's what friends are for.\""),),
        ("{success}",
         ("\"We did it!{emo}\" shouted {name}.", "{name} felt so {happy}.", "",
          "\"Thank you, {friend}!\" said {name}. \"You're the best friend ever.\"")),
        (MORAL, ENDING),
    ),
)
LOST = dict(
    fields=(),
    rows=((),),
    moral=("it helps to stay calm and think", "it is good to put things back where they belong",
           "friends help each other", "looking carefully is better than worrying"),
    story=(
        (OPENING, INTRO[0],
         ("{name} had {a_thing}. {He} took it everywhere.",
          "{His} favorite toy was {a_thing}. {He} loved it very much.",
          "{His} {parent} gave {him} {a_thing} for {his} birthday, and {he} loved it more than anything.")),
        (("{When}, {name} could not find {his} {thing}.", "One morning, {name} woke up, and {his} {thing} was gone!",
          "{When}, {name} wanted to play with {his} {thing}, but it wasn't there."),
         ("{He} looked {spot1}. {He} looked {spot2}. But the {thing} wasn't there.",
          "{He} looked {spot1} and {spot2}, but {he} couldn't find it anywhere."),
         ("{name} felt {sad}.", "{name} started to cry.", "")),
        (("\"Have you seen my {thing}?\" {name} asked {his} {parent}.\n\"No, I haven't,\" said {Parent}. "
          "\"Where did you play with it last?\"\n{name} thought hard. \"I think I had it {spot3},\" {he} said.",
          "{name} asked {friend} for help. \"My {thing} is lost!\" {he} said.\n"
          "\"Don't worry, we'll find it,\" said {friend}. \"Let's look {spot3}.\""),),
        (("{name} looked {spot3}, and there it was!", "They looked {spot3}, and there was the {thing}!",
          "Just then, {name} heard a noise. It was {his} {pet}, and it had the {thing} in its mouth!"),
         ("{He} hugged the {thing} tight.", "\"I'll never lose you again,\" {name} said to the {thing}.",
          "\"Thank you!{emo}\" said {name}.", "{name} felt {happy}.")),
        (MORAL, ENDING),
    ),
)
HELP = dict(
    fields=("trouble", "rescue"),
    rows=(
        ("The {animal} was stuck high up in a tree.",
         "{name} found a long branch and held it up, and the {animal} climbed down slowly."),
        ("The {animal} had hurt its leg.",
         "{name} and {his} {parent} took it home and wrapped its leg in a soft cloth. "
         "After a few days, it could walk again."),
        ("The {animal} was lost and could not find its family.",
         "{name} carried it gently and looked all around. At last they found its family waiting by an old tree."),
        ("The {animal} was cold and shivering.",
         "{name} wrapped it in {his} scarf and held it close until it stopped shivering."),
        ("The {animal} was very hungry.", "{name} shared {his} {food} with it. The {animal} ate every bit."),
        ("The {animal} was caught in an old net.",
         "{name} pulled the net open, very carefully, one knot at a time, until the {animal} was free."),
        ("The {animal} had fallen into a deep hole.",
         "{name} lay down on the grass, reached in with both hands, and lifted the {animal} out."),
    ),
    moral=("it is good to be kind to animals", "even a small friend can need big help",
           "helping others makes you feel good too"),
    story=(
        (OPENING,) + INTRO,
        (("{When}, {name} went to the {place}.", "{name} was walking in the {place} with {his} {parent}.",
          "{When}, {name} was playing in the {place_adj} {place}."),
         SETTING,
         ("{He} heard a small sound.", "Suddenly, {he} heard a little cry.",
          "Near a big rock, {he} saw something move."),
         ("It was {a_animal}!", "It was {a_animal}."),
         "{trouble}"),
        (("\"Don't be scared, little {animal},\" {name} said softly. \"I'm here to help.\"",
          "\"Oh no! Are you okay?\" {name} asked.\nThe {animal} looked at {him} with big, sad eyes.",
          "\"Look, {Parent}!\" {name} called. "
          "\"The {animal} needs help!\"\n\"Let's help it together,\" said {Parent}."),
         "{rescue}"),
        (("The {animal} was so happy. It licked {his} hand.", "The {animal} did a little dance to say thank you.",
          "After that, the {animal} came to visit {name} every day.",
          "The {animal} rubbed its head on {his} arm.{emo}"),
         ("{name} felt {happy}.", "")),
        (MORAL, ENDING),
    ),
)
SHARE = dict(
    fields=(),
    rows=((),),
    moral=("sharing is more fun than fighting", "taking turns makes everyone happy",
           "a friend is worth more than a toy"),
    story=(
        (("{name} and {friend} were best friends.", "{name} and {friend} lived next door to each other.",
          "{name} had a friend named {friend}. They played together every day."),
         ("", "{name} was {age}, and {friend} was {age2}.")),
        (("{When}, they found {a_thing} in the {place}.", "{When}, {friend} brought {a_thing} to the {place}.",
          "{When}, {name}'s {parent} gave them {a_thing}."),
         ("Both of them wanted to play with it.", "They both wanted it at the same time.")),
        (("\"It's mine!\" shouted {name}.\n\"No, it's mine!\" shouted {friend}.",
          "\"I saw it first!\" said {name}.\n\"No, I did!\" said {friend}."),
         ("They pulled and pulled, and the {thing} fell into a puddle of mud.",
          "They pulled so hard that they both fell down.",
          "They stopped talking to each other, and the afternoon was long and boring."),
         ("Soon they both felt {sad}.", "Now nobody was having any fun.")),
        (("{name}'s {parent} came over. \"Why don't you take turns?\" {phe} said.",
          "{name} thought for a moment. \"What if we play with it together?\" {he} asked.\n{friend} smiled. \"Okay!\""),
         ("So they did. First {name} played with the {thing}, and then {friend} had a turn.",
          "They took turns, and it was much more fun."),
         ("They {acted} together until it got dark.", "Later they {acted} together.", "")),
        (MORAL, ENDING),
    ),
)
TRIP = dict(
    fields=("trip", "sights"),
    rows=(
        ("market", "There were stalls full of {foods} and {foods2}, and a man selling balloons."),
        ("farm", "{He} saw {animals}, a big red barn and a tractor."),
        ("zoo", "{He} saw {animals} and {animals2}, and a keeper gave {him} a map."),
        ("beach", "The waves were big, and {he} saw {animals} near the rocks."),
        ("fair", "There were rides, music, and a tent with {animals} in it."),
    ),
    moral=("sharing makes everyone happy", "a simple day can be the best day"),
    story=(
        (OPENING, INTRO[0]),
        (("{When}, {name} went to the {trip} with {his} {parent}.",
          "{When}, {name} and {his} {parent} took a bus to the {trip}."),
         SETTING,
         "{sights}",
         ("They stopped at a little café, and {name} had {cafe}.", "",
          "At the café, {name} had {cafe}, and {Parent} had a cup of coffee.")),
        (("{Parent} gave {name} {n} {foods}.", "{name} got {n} {foods} from {his} {parent}."),
         ("On the way home, {he} gave {k} to {friend}.", "Then {he} met {friend} and shared {k} with {fhim}."),
         ("Now {he} had {left} {foods} left.",
          "\"How many do you have now?\" asked {Parent}.\n\"{Left}!\" said {name}.")),
        (("Then dark clouds came, and it started to rain. They ran home laughing.",
          "On the way home, they saw a rainbow over the {place}.{emo}", ""),
         ("That night, {name} told {his} friends all about the {trip}.", "{name} felt {happy}.")),
        (MORAL, ENDING),
    ),
)
FEAR = dict(
    fields=("fear", "scary", "comfort", "brave"),
    rows=(
        ("the dark", "Every night, when the lights went off, {he} saw shapes in the corners of {his} room.",
         "The dark is just your room with the lights asleep.",
         "{name} looked at the shapes again. One was {his} coat, and one was {his} chair. "
         "{He} laughed and went to sleep."),
        ("thunder", "When a storm came, the loud booms made {him} hide under the blanket.",
         "Thunder is only the sky clapping its big hands.",
         "The next time the thunder came, {name} clapped back, and it didn't seem so scary anymore."),
        ("the big dog next door", "The dog barked every time {he} walked past the fence.",
         "He barks because he wants to say hello.",
         "The next day, {name} said hello to the dog. The dog wagged its tail and licked {his} hand."),
        ("the first day of school", "{He} didn't know anyone there, and the building looked so big.",
         "Everyone feels a little scared on the first day. By lunch, you'll have a new friend.",
         "At school, a kid named {friend} sat next to {name}. By lunch, they were friends."),
        ("going to the doctor", "{He} thought the doctor might hurt.",
         "The doctor helps people feel better. I'll hold your hand the whole time.",
         "The doctor was kind and funny, and gave {name} a sticker shaped like a star."),
        ("the deep water at the lake", "{He} stayed on the sand while the others splashed and swam.",
         "We'll go in slowly, and you can hold on to me.",
         "Step by step, {name} walked into the water. It was cool and nice, and soon {he} {was} splashing too."),
    ),
    moral=("being brave doesn't mean you are never scared", "talking about a fear makes it smaller",
           "things are often less scary than they seem"),
    story=(
        (OPENING,) + INTRO,
        ("{name} was afraid of {fear}.", "{scary}"),
        (("\"I'm scared,\" {name} whispered to {his} {parent}.\n\"It's okay to be scared,\" said {Parent}. "
          "\"{comfort}\"",
          "{name} told {his} {parent}, \"I don't like {fear}.\"\n{Parent} gave {name} a big hug. \"{comfort}\""),),
        ("{brave}", ("{name} felt {happy}.", "", "\"I'm not scared anymore!{emo}\" {name} said.")),
        (MORAL, ENDING),
    ),
)
MESS = dict(
    fields=("accident", "confession", "fix"),
    rows=(
        ("{name} threw {his} ball too high, and it hit the blue vase on the table. "
         "The vase fell and broke into three pieces.",
         "I broke the blue vase",
         "Together they glued the pieces back, and the vase stood on the table again, "
         "with thin lines where the cracks were."),
        ("{name} was so hungry that {he} ate all the cookies {his} {parent} had baked for the neighbors.",
         "I ate all the cookies", "They baked a new batch together, and {name} carried the warm plate next door."),
        ("{name} was running in the hall and bumped into the wall. "
         "The painting of the sea fell down, and its frame cracked.",
         "I knocked down the painting",
         "They fixed the frame with glue and two tiny nails and hung the painting back up."),
        ("{name} forgot to water {his} {parent}'s little plant for a whole week, and its leaves turned brown.",
         "I forgot to water your plant",
         "They gave it water and put it in the sun. After a few days, a new green leaf came out."),
        ("{name} wore {his} {parent}'s red sweater to play in the mud, and now it was dirty and torn.",
         "I got your sweater dirty", "They washed it and sewed up the hole, and the sweater looked almost like new."),
        ("{name} drew on the kitchen wall with a purple crayon. It looked like a big purple cat.",
         "I drew on the wall",
         "They washed the wall together, and then {Parent} gave {name} a big roll of paper to draw on."),
    ),
    moral=("telling the truth is always best", "everyone makes mistakes, and saying sorry helps",
           "it is better to be honest than to hide"),
    story=(
        (OPENING,) + INTRO,
        ("{accident}", ("{name} felt {sad}.", "{name}'s heart beat fast."),
         ("{He} thought about hiding it.", "Maybe nobody will notice, {he} thought.", "{He} wanted to run and hide.")),
        (("\"{Parent}, I have to tell you something,\" {name} said quietly. \"{confession}. I'm sorry.\"\n"
          "{Parent} was quiet for a moment. Then {phe} smiled. \"Thank you for telling me the truth,\" {phe} said.",
          "\"What happened here?\" asked {Parent}.\n{name} looked at the floor. \"It was me. "
          "{confession},\" {he} said. "
          "\"I didn't mean to.\"\n{Parent} gave {name} a hug. \"Everyone makes mistakes. I'm glad you told me.\""),),
        ("{fix}", ("{name} felt {happy}.", "", "\"I'm glad I told the truth,{emo}\" {name} said.")),
        (MORAL, ENDING),
    ),
)
MAGIC = dict(
    fields=("magic", "power", "adventure"),
    rows=(
        ("stone", "Whenever {name} held it, {he} could understand what the animals said.",
         "A little {animal} told {him} that the old oak tree was sad because nobody sat under it anymore. "
         "So {name} brought {his} friends, and they had a picnic in its shade."),
        ("key", "It opened a tiny door at the bottom of the garden wall that nobody had ever seen before.",
         "Behind the door was a garden where the flowers sang and the {animals} could talk. "
         "{name} played there all afternoon and came home just in time for dinner."),
        ("shell", "When {name} held it to {his} ear, it whispered the way to a hidden treasure.",
         "{name} and {friend} followed the whispers to the beach and dug in the sand. "
         "The treasure was a box of old coins, and they gave it to the museum in {town}."),
        ("feather", "When {name} held it, {he} floated up into the air like a balloon.",
         "{He} flew over the {place} and the rooftops of {town}. Far below, the people looked like tiny ants. "
         "When the sun went down, {he} floated gently home."),
        ("pencil", "Everything {name} drew with it came to life.",
         "{He} drew a little {animal}, and it hopped right off the page! "
         "Then {he} drew a cake, and the cake was real and sweet."),
        ("coin", "It could grant one wish.",
         "{name} thought about wishing for a mountain of toys. But then {he} remembered that {friend} was sick, "
         "so {he} wished for {friend} to feel better. The next day, {friend} was well again."),
    ),
    moral=("kindness is the best magic", "the best wishes are for others", "wonder is all around us"),
    story=(
        (OPENING,) + INTRO,
        (("{When}, {name} found a {magic_adj} {magic} {spot1}.",
          "{When}, while {he} {was} playing in the {place}, {name} saw a {magic_adj} {magic} in the grass."),
         ("It was warm, and it hummed softly.", "It sparkled in the sun.", ""),
         "{power}"),
        (("\"Wow! It's magic!{emo}\" {name} whispered.",
          "\"{friend}, come and see!\" {name} shouted.\n{friend} ran over. "
          "\"I've never seen anything like it!\" {fhe} said."),
         "{adventure}"),
        (("From then on, {name} kept the {magic} in a safe place.",
          "The next morning, the {magic} was gone. But {name} never forgot it.",
          "{name} never told anyone about the {magic}, except {friend}."),),
        (MORAL, ENDING),
    ),
)
PLOTS = (WANT, LOST, HELP, SHARE, TRIP, FEAR, MESS, MAGIC)
