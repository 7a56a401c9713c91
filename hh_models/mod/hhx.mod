TITLE hhx.mod   squid Na, K and leak channels (NEURON's hh) with Na shifts and persistent Na

COMMENT
NEURON's built-in hh.mod (Hodgkin & Huxley 1952, SW Jaslove 1992), with the same rates,
q10 = 3^((celsius - 6.3)/10), rate tables and ena/ek/el conventions, plus three
channelopathy parameters:
  mshift (mV)  Na activation: the m rates are evaluated at v - mshift
  hshift (mV)  Na inactivation: the h rates are evaluated at v - hshift
  nap (1)      fraction of gnabar that does not inactivate:
               ina = gnabar*m^3*((1 - nap)*h + nap)*(v - ena)
With mshift = hshift = nap = 0 every expression reduces to hh.mod's, operation for
operation, so the two mechanisms give the same trajectories.
mshift and hshift are GLOBAL (one value per simulation) so that the rate TABLE can
DEPEND on them exactly as hh's table depends on celsius; nap is a RANGE variable.
Must agree with hh_models/params.py (rates, steady_state_currents).
ENDCOMMENT

UNITS {
        (mA) = (milliamp)
        (mV) = (millivolt)
        (S) = (siemens)
}

NEURON {
        SUFFIX hhx
        USEION na READ ena WRITE ina
        USEION k READ ek WRITE ik
        NONSPECIFIC_CURRENT il
        RANGE gnabar, gkbar, gl, el, gna, gk, nap
        RANGE minf, hinf, ninf, mtau, htau, ntau
        GLOBAL mshift, hshift
        THREADSAFE : assigned GLOBALs will be per thread
}

PARAMETER {
        gnabar = .12 (S/cm2)    <0,1e9>
        gkbar = .036 (S/cm2)    <0,1e9>
        gl = .0003 (S/cm2)      <0,1e9>
        el = -54.3 (mV)
        mshift = 0 (mV)
        hshift = 0 (mV)
        nap = 0 (1)             <0,1>
}

STATE {
        m h n
}

ASSIGNED {
        v (mV)
        celsius (degC)
        ena (mV)
        ek (mV)

        gna (S/cm2)
        gk (S/cm2)
        ina (mA/cm2)
        ik (mA/cm2)
        il (mA/cm2)
        minf hinf ninf
        mtau (ms) htau (ms) ntau (ms)
}

BREAKPOINT {
        SOLVE states METHOD cnexp
        gna = gnabar*m*m*m*((1 - nap)*h + nap)
        ina = gna*(v - ena)
        gk = gkbar*n*n*n*n
        ik = gk*(v - ek)
        il = gl*(v - el)
}

INITIAL {
        rates(v)
        m = minf
        h = hinf
        n = ninf
}

DERIVATIVE states {
        rates(v)
        m' =  (minf-m)/mtau
        h' = (hinf-h)/htau
        n' = (ninf-n)/ntau
}

PROCEDURE rates(v(mV)) {  :Computes rate and other constants at current v.
        LOCAL  alpha, beta, sum, q10, vm, vh
        TABLE minf, mtau, hinf, htau, ninf, ntau DEPEND celsius, mshift, hshift FROM -100 TO 100 WITH 200

UNITSOFF
        q10 = 3^((celsius - 6.3)/10)
        vm = v - mshift
        vh = v - hshift
                :"m" sodium activation system
        alpha = .1 * vtrap(-(vm+40),10)
        beta =  4 * exp(-(vm+65)/18)
        sum = alpha + beta
        mtau = 1/(q10*sum)
        minf = alpha/sum
                :"h" sodium inactivation system
        alpha = .07 * exp(-(vh+65)/20)
        beta = 1 / (exp(-(vh+35)/10) + 1)
        sum = alpha + beta
        htau = 1/(q10*sum)
        hinf = alpha/sum
                :"n" potassium activation system
        alpha = .01*vtrap(-(v+55),10)
        beta = .125*exp(-(v+65)/80)
        sum = alpha + beta
        ntau = 1/(q10*sum)
        ninf = alpha/sum
}

FUNCTION vtrap(x,y) {  :Traps for 0 in denominator of rate eqns.
        if (fabs(x/y) < 1e-6) {
                vtrap = y*(1 - x/y/2)
        }else{
                vtrap = x/(exp(x/y) - 1)
        }
}

UNITSON
