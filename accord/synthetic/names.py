"""Hard-coded tables the synthetic generator draws from.

Every value here is invented or common enough to be anonymous: given and family
names from several naming traditions (English, Spanish with its accents and
particles, Vietnamese, Arabic, and others), nicknames, street names and towns.
Nothing is read from the network or from real records.

The tables only use characters that Windows-1252 can encode, so a source
exported in that encoding (as ``harbor_warrants`` is) can hold any name
without a lossy fallback.
"""

from __future__ import annotations

# fmt: off
GIVEN_NAMES: tuple[str, ...] = (
    # English
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Christopher", "Nancy", "Daniel", "Lisa",
    "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra", "Donald", "Ashley",
    "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
    "Kenneth", "Dorothy", "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa",
    "Timothy", "Deborah", "Ronald", "Stephanie", "Edward", "Rebecca", "Jason", "Sharon",
    "Jeffrey", "Laura", "Ryan", "Cynthia", "Jacob", "Katherine", "Nicholas", "Victoria",
    "Samuel", "Abigail", "Benjamin", "Alexander", "Maurice", "Tyrone", "DeShawn",
    "Latoya", "Keisha", "Jamal", "Aaliyah", "Darnell", "Imani", "Marcus", "Brianna",
    # Spanish
    "José", "María", "Juan", "Guadalupe", "Francisco", "Jazmín", "Luis", "Ana",
    "Carlos", "Sofía", "Jesús", "Lucía", "Miguel", "Valentina", "Alejandro", "Camila",
    "Javier", "Ximena", "Diego", "Mariana", "Fernando", "Gabriela", "Ricardo", "Daniela",
    "Andrés", "Paola", "Héctor", "Rocío", "Raúl", "Inés", "Ramón", "Araceli",
    "Joaquín", "Yesenia", "Sebastián", "Marisol", "Rubén", "Dolores", "Iván", "Leticia",
    "Óscar", "Belén", "Ángel", "Maribel", "Efraín", "Nayeli", "Ignacio", "Rosario",
    "Concepción", "Mercedes", "Jazmin", "Maria", "Jose",
    # Vietnamese
    "Minh", "Linh", "Thanh", "Huong", "Tuan", "Lan", "Hoa", "Duc", "Anh", "Trang",
    "Quang", "Thuy", "Hung", "Mai", "Khanh", "Phuong", "Long", "Ngoc", "Bao", "Hanh",
    "Dung", "Tam", "Vinh", "Yen",
    # Arabic
    "Mohammed", "Muhammad", "Fatima", "Ahmed", "Aisha", "Omar", "Layla", "Ali",
    "Mariam", "Hassan", "Noor", "Yusuf", "Zainab", "Khalid", "Amira", "Ibrahim",
    "Huda", "Mustafa", "Salma", "Tariq", "Rania", "Karim", "Yasmin", "Hamza", "Samira",
    # Others: Chinese, Korean, South Asian, West and East African, Slavic, French,
    # German, Portuguese, Filipino, Somali
    "Wei", "Jing", "Xiu Ying", "Hao", "Ji-hoon", "Seo-yeon", "Min-jun", "Priya",
    "Arjun", "Rahul", "Ananya", "Vikram", "Deepa", "Chinedu", "Ngozi", "Oluwaseun",
    "Adaeze", "Kwame", "Abena", "Dmitri", "Olga", "Sergei", "Natalia", "Krzysztof",
    "Agnieszka", "François", "Zoé", "Chloé", "Hélène", "Jürgen", "Björn", "João",
    "Conceição", "Maricel", "Rizal", "Abdi", "Hodan", "Amina", "Tesfaye", "Selam",
)

FAMILY_NAMES: tuple[str, ...] = (
    # English, Irish, Scottish
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
    "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter",
    "Mitchell", "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans",
    "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan",
    "Cooper", "Peterson", "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward", "Cox",
    "Richardson", "Wood", "Watson", "Brooks", "Bennett", "Gray", "Hughes", "Price",
    "Sanders", "Myers", "Ross", "Foster", "O'Brien", "O'Connor", "McDonald", "MacLeod",
    "St. John", "Washington", "Jefferson",
    # Spanish, with accents, particles and double surnames
    "Ramírez", "García", "Rodríguez", "Martínez", "Hernández", "López", "González",
    "Pérez", "Sánchez", "Gómez", "Díaz", "Cruz", "Reyes", "Morales", "Jiménez",
    "Ortiz", "Gutiérrez", "Chávez", "Ramos", "Vásquez", "Castillo", "Ruiz", "Álvarez",
    "Mendoza", "Núñez", "Fernández", "Torres", "Flores", "Rivera", "de la Cruz",
    "de León", "del Río", "Muñoz", "Ibáñez", "Peña", "Domínguez", "Vargas",
    "Castañeda", "Salazar", "Ochoa", "Zúñiga", "Velázquez", "Aguilar", "Herrera",
    "Medina", "Cortés", "García Márquez", "Ponce de León", "Ramirez", "Nunez",
    # Vietnamese
    "Nguyen", "Tran", "Le", "Pham", "Hoang", "Huynh", "Phan", "Vu", "Vo", "Dang",
    "Bui", "Do", "Ho", "Ngo", "Duong", "Ly", "Truong", "Dinh", "Lam",
    # Arabic
    "Al-Sayed", "Haddad", "Khalil", "Mansour", "Nasser", "Saleh", "Hussein",
    "Abdullah", "Ibrahim", "Rahman", "El-Amin", "Farouk", "Hamdan", "Qureshi", "Aziz",
    "Darwish", "Suleiman", "Youssef", "Al-Masri", "Abu Bakr",
    # Others
    "Wang", "Li", "Zhang", "Chen", "Liu", "Kim", "Park", "Lee", "Choi", "Patel",
    "Shah", "Singh", "Kumar", "Gupta", "Okafor", "Adeyemi", "Okonkwo", "Mensah",
    "Ivanov", "Petrov", "Kowalski", "Nowak", "Müller", "Schmidt", "Dubois", "Lefèvre",
    "Rossi", "Bianchi", "Silva", "Santos", "Oliveira", "Costa", "Conceição",
    "Yamamoto", "Tanaka", "Sato", "Cohen", "Levi", "Friedman", "Jensen", "Hansen",
    "O'Neill", "Papadopoulos", "Yilmaz", "Demir", "Abdi", "Warsame", "Tesfaye",
    "Haile", "Reyes-Ortiz",
)

#: Common short forms of given names. Keys are the given names as they appear in
#: :data:`GIVEN_NAMES`; a person whose given name is a key may go by a value.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Jazmín": ("Jazzy",),
    "Jazmin": ("Jazzy",),
    "Maurice": ("Mo",),
    "William": ("Bill", "Billy", "Will"),
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Margaret": ("Peggy", "Maggie"),
    "José": ("Pepe",),
    "Jose": ("Pepe",),
    "Francisco": ("Paco", "Pancho"),
    "Guadalupe": ("Lupe",),
    "James": ("Jim", "Jimmy"),
    "Michael": ("Mike",),
    "Richard": ("Rick", "Rich"),
    "Joseph": ("Joe",),
    "Thomas": ("Tom", "Tommy"),
    "Charles": ("Chuck", "Charlie"),
    "Christopher": ("Chris",),
    "Daniel": ("Danny", "Dan"),
    "Matthew": ("Matt",),
    "Anthony": ("Tony",),
    "Katherine": ("Kate", "Kathy"),
    "Jennifer": ("Jen", "Jenny"),
    "Jessica": ("Jess",),
    "Alexander": ("Alex",),
    "Samuel": ("Sam",),
    "Benjamin": ("Ben",),
    "Victoria": ("Vicky", "Tori"),
    "Abigail": ("Abby",),
    "Rebecca": ("Becky",),
    "Deborah": ("Debbie",),
    "Kimberly": ("Kim",),
    "Patricia": ("Patty", "Trish"),
    "Edward": ("Ed", "Eddie"),
    "Timothy": ("Tim",),
    "Ronald": ("Ron",),
    "Kenneth": ("Ken", "Kenny"),
    "Steven": ("Steve",),
    "Andrew": ("Andy", "Drew"),
    "Nicholas": ("Nick",),
    "Stephanie": ("Steph",),
    "Dolores": ("Lola",),
    "Jesús": ("Chuy",),
    "Ignacio": ("Nacho",),
    "Alejandro": ("Alex", "Alejo"),
    "Rosario": ("Chayo",),
    "Concepción": ("Conchita",),
    "Gabriela": ("Gaby",),
    "Fernando": ("Nando",),
    "Mohammed": ("Mo",),
    "Muhammad": ("Mo",),
    "Ibrahim": ("Abe",),
    "Yusuf": ("Joe",),
    "Dmitri": ("Dima",),
    "Natalia": ("Natasha",),
    "Oluwaseun": ("Seun",),
    "Chinedu": ("Chi",),
    "Marcus": ("Marc",),
}

#: Street names ("monikers") unrelated to the given name.
MONIKERS: tuple[str, ...] = (
    "Smoke", "Lil T", "Shorty", "Flaco", "Gordo", "Spider", "Ghost", "Peanut",
    "Boo", "Chino", "Junior", "Red", "Tiny", "Slim", "Blue", "Nena", "Guero", "Tank",
)

#: Telephone area codes the fictional numbers live under. Every generated number
#: is ``(AAA) 555-01DD``, inside the 555-0100..0199 block reserved for fiction.
AREA_CODES: tuple[str, ...] = (
    "206", "253", "303", "312", "360", "404", "415", "425", "458", "503",
    "509", "541", "602", "612", "617", "702", "713", "720", "808", "817",
    "858", "907", "971", "212", "213", "305", "314", "510", "619", "646",
)

STREETS: tuple[str, ...] = (
    "Elm", "Oak", "Maple", "Cedar", "Pine", "Alder", "Birch", "Willow", "River",
    "Lake", "Harbor", "Bay", "Hill", "Park", "Mill", "Church", "Market", "Front",
    "Water", "Union", "Division", "Broadway", "Lincoln", "Jefferson", "Cesar Chavez",
    "Martin Luther King Jr", "Sandy", "Powell", "Burnside", "Killingsworth",
)

STREET_SUFFIXES: tuple[str, ...] = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Way", "Ct")

#: Fictional towns with the state and ZIP prefix their addresses use.
TOWNS: tuple[tuple[str, str, str], ...] = (
    ("Rivertown", "OR", "972"),
    ("Lakeside", "OR", "970"),
    ("Harbor City", "OR", "971"),
    ("Cedar Falls", "WA", "986"),
    ("Millbrook", "OR", "973"),
    ("Bayview", "WA", "983"),
)

#: States that issue the plates of generated vehicles (weighted towards the
#: region by repetition).
PLATE_STATES: tuple[str, ...] = (
    "OR", "OR", "OR", "OR", "OR", "WA", "WA", "WA", "CA", "CA", "ID", "NV", "AZ", "TX",
)

EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net")
# fmt: on
